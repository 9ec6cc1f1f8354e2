//! Roles and record visibility. Storage turns a [`Scope`] into the condition every query on
//! owned records carries; this module decides what each role may do.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Manager,
    Member,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::Admin, Role::Manager, Role::Member, Role::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Owners and admins manage the workspace: users, teams, roles, custom fields, trash, audit.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    pub fn default_policy(self) -> Policy {
        use Scope::*;
        match self {
            Role::Owner | Role::Admin => Policy { read: All, edit: All },
            Role::Manager => Policy { read: Team, edit: Team },
            Role::Member => Policy { read: All, edit: Own },
            Role::ReadOnly => Policy { read: All, edit: None },
        }
    }
}

/// Which records a role reaches: none, the ones the user owns, the ones owned by anyone in
/// the user's teams, or all of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    None,
    Own,
    Team,
    All,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::None => "none",
            Scope::Own => "own",
            Scope::Team => "team",
            Scope::All => "all",
        }
    }
    pub fn parse(s: &str) -> Option<Scope> {
        [Scope::None, Scope::Own, Scope::Team, Scope::All].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    pub read: Scope,
    pub edit: Scope,
}

impl Policy {
    /// Editing what one cannot see makes no sense; a policy never grants it.
    pub fn normalized(self) -> Policy {
        Policy { read: self.read, edit: self.edit.min(self.read) }
    }
}

/// Who is asking, as far as record visibility is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub workspace_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub policy: Policy,
    /// Users who share at least one team with the viewer, the viewer included.
    pub teammates: Vec<i64>,
    /// A read-only API token narrows any role to reading.
    pub read_only_token: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The record does not exist for this viewer: answer 404.
    Hidden,
    /// Visible but not changeable: answer 403 on a write.
    ReadOnly,
    Edit,
}

impl Viewer {
    fn reaches(&self, scope: Scope, owner_id: i64) -> bool {
        match scope {
            Scope::None => false,
            Scope::Own => owner_id == self.user_id,
            Scope::Team => owner_id == self.user_id || self.teammates.contains(&owner_id),
            Scope::All => true,
        }
    }

    pub fn edit_scope(&self) -> Scope {
        if self.read_only_token { Scope::None } else { self.policy.edit }
    }

    pub fn access(&self, record_workspace: i64, owner_id: i64) -> Access {
        if record_workspace != self.workspace_id || !self.reaches(self.policy.read, owner_id) {
            Access::Hidden
        } else if self.reaches(self.edit_scope(), owner_id) {
            Access::Edit
        } else {
            Access::ReadOnly
        }
    }

    /// Whether this viewer may give a record to `new_owner` (e.g. a member may not hand
    /// records to others and lose them; a manager may assign within the team).
    pub fn may_assign_to(&self, new_owner: i64) -> bool {
        self.reaches(self.edit_scope(), new_owner)
    }

    pub fn can_write_anything(&self) -> bool {
        self.edit_scope() != Scope::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role) -> Viewer {
        Viewer { workspace_id: 1, user_id: 10, role, policy: role.default_policy(), teammates: vec![10, 11], read_only_token: false }
    }

    #[test]
    fn default_matrix() {
        // (role, own record, teammate's record, stranger's record)
        use Access::*;
        let expected = [
            (Role::Owner, Edit, Edit, Edit),
            (Role::Admin, Edit, Edit, Edit),
            (Role::Manager, Edit, Edit, Hidden),
            (Role::Member, Edit, ReadOnly, ReadOnly),
            (Role::ReadOnly, ReadOnly, ReadOnly, ReadOnly),
        ];
        for (role, own, team, other) in expected {
            let v = viewer(role);
            assert_eq!(v.access(1, 10), own, "{role:?} own");
            assert_eq!(v.access(1, 11), team, "{role:?} team");
            assert_eq!(v.access(1, 12), other, "{role:?} other");
            assert_eq!(v.access(2, 10), Hidden, "{role:?} other workspace");
        }
    }

    #[test]
    fn read_only_token_never_edits() {
        let mut v = viewer(Role::Owner);
        v.read_only_token = true;
        assert_eq!(v.access(1, 10), Access::ReadOnly);
        assert!(!v.can_write_anything());
    }

    #[test]
    fn policy_never_edits_beyond_reading() {
        let p = Policy { read: Scope::Own, edit: Scope::All }.normalized();
        assert_eq!(p.edit, Scope::Own);
    }
}
