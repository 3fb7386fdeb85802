//! [`Object`]: the Kubernetes objects Frugal writes, and their multi-document YAML form.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::Serialize;

use crate::Error;

/// One Kubernetes object of a kind Frugal builds.
// A handful of objects per file: unboxed variants keep `match` patterns plain.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// `v1/ServiceAccount`.
    ServiceAccount(ServiceAccount),
    /// `rbac.authorization.k8s.io/v1/ClusterRole`.
    ClusterRole(ClusterRole),
    /// `rbac.authorization.k8s.io/v1/ClusterRoleBinding`.
    ClusterRoleBinding(ClusterRoleBinding),
    /// `rbac.authorization.k8s.io/v1/Role`.
    Role(Role),
    /// `rbac.authorization.k8s.io/v1/RoleBinding`.
    RoleBinding(RoleBinding),
    /// `apps/v1/Deployment`.
    Deployment(Deployment),
    /// `policy/v1/PodDisruptionBudget`.
    PodDisruptionBudget(PodDisruptionBudget),
}

macro_rules! object_kinds {
    ($($variant:ident),*) => {
        impl Object {
            /// The object's `kind`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Object::$variant(_) => stringify!($variant),)*
                }
            }

            /// The object's `metadata.name` (empty when unset).
            pub fn name(&self) -> &str {
                match self {
                    $(Object::$variant(o) => o.metadata.name.as_deref().unwrap_or_default(),)*
                }
            }
        }

        $(
            impl From<$variant> for Object {
                fn from(o: $variant) -> Self {
                    Object::$variant(o)
                }
            }
        )*

        impl Serialize for Object {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // Each k8s-openapi type writes its own `apiVersion` and `kind`.
                match self {
                    $(Object::$variant(o) => o.serialize(s),)*
                }
            }
        }

        // Reading objects back instantiates every type's deserializer, which costs ~30 s of
        // compilation: only tests need it, so it sits behind the `parse` feature.
        #[cfg(feature = "parse")]
        impl<'de> serde::Deserialize<'de> for Object {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                let kind = value.get("kind").and_then(serde_json::Value::as_str).unwrap_or_default();
                match kind {
                    $(stringify!($variant) => serde_json::from_value(value)
                        .map(Object::$variant)
                        .map_err(D::Error::custom),)*
                    other => Err(D::Error::custom(format!("unsupported kind `{other}`"))),
                }
            }
        }
    };
}

object_kinds!(
    ServiceAccount,
    ClusterRole,
    ClusterRoleBinding,
    Role,
    RoleBinding,
    Deployment,
    PodDisruptionBudget
);

/// Renders `objects` as one multi-document YAML file, in the given order, after a comment
/// line `header` (skipped when empty). The same objects always give the same bytes:
/// fields come in k8s-openapi's declaration order and maps (labels, resources) sorted.
pub fn render_yaml(header: &str, objects: &[Object]) -> Result<String, Error> {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    for object in objects {
        out.push_str("---\n");
        out.push_str(&serde_norway::to_string(object).map_err(|e| Error::Yaml(e.to_string()))?);
    }
    Ok(out)
}

/// Parses a multi-document YAML file back into objects (empty documents are skipped).
/// Needs the `parse` feature.
#[cfg(feature = "parse")]
pub fn parse_yaml(text: &str) -> Result<Vec<Object>, Error> {
    let mut objects = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = <serde_json::Value as serde::Deserialize>::deserialize(document)
            .map_err(|e| Error::Yaml(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        objects.push(serde_json::from_value(value).map_err(|e| Error::Yaml(e.to_string()))?);
    }
    Ok(objects)
}
