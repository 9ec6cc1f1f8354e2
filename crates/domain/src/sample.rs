//! A small deterministic number sequence for demo and benchmark data: the same seed gives
//! the same data on every machine and run, so demos and measurements are comparable.

pub struct Seq(pub u64);

impl Seq {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_deterministic() {
        let (mut a, mut b) = (super::Seq(7), super::Seq(7));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }
}
