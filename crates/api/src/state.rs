use accord_storage::Db;
use metrics_exporter_prometheus::PrometheusHandle;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: HttpConfig,
    pub metrics: Option<PrometheusHandle>,
}

#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Mark cookies `Secure`: Accord is served over TLS (directly or by a proxy).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
}
