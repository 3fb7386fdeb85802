//! Turning schema names and values into Rust identifiers and doc text.

/// Rust keywords (strict and reserved) that need a raw identifier or an escape.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers; they get a trailing underscore instead.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// Splits a name or value into words: at every non-alphanumeric character, between a
/// lowercase letter or digit and an uppercase letter (`memberOf`, `S3Key`), and before
/// the last capital of an acronym that starts a new word (`KMSMasterKeyID`).
pub(crate) fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = c.is_ascii_uppercase()
                && ((prev.is_ascii_lowercase() || prev.is_ascii_digit())
                    || (prev.is_ascii_uppercase() && next_lower));
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `UpperCamelCase` from any name or value: `GLACIER_IR` → `GlacierIr`,
/// `x86_64` → `X86_64` (digits on both sides of a word break keep an underscore), a
/// leading digit gets a `V` prefix, and an empty result becomes `Empty`.
pub(crate) fn pascal(s: &str) -> String {
    let mut out = String::new();
    for word in words(s) {
        let starts_with_digit = word.starts_with(|c: char| c.is_ascii_digit());
        if starts_with_digit && out.ends_with(|c: char| c.is_ascii_digit()) {
            out.push('_');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() {
        return "Empty".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `snake_case` from a name: `KMSMasterKeyID` → `kms_master_key_id`.
pub(crate) fn snake(s: &str) -> String {
    let joined = words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if joined.is_empty() {
        "empty".to_owned()
    } else {
        joined
    }
}

/// Makes a snake or camel identifier legal: keywords become raw identifiers (or get a
/// trailing underscore where raw identifiers are not allowed), a leading digit gets a
/// prefix.
pub(crate) fn escape_ident(ident: String) -> String {
    if NOT_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else if ident.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n{ident}")
    } else {
        ident
    }
}

/// The field (or parameter) identifier for a property name: `Type` → `r#type`.
pub(crate) fn field_ident(property: &str) -> String {
    escape_ident(snake(property))
}

/// The enum variant identifier for an allowed value: `INTELLIGENT_TIERING` →
/// `IntelligentTiering`.
pub(crate) fn variant_ident(value: &str) -> String {
    let name = pascal(value);
    if name == "Self" {
        "SelfValue".to_owned()
    } else {
        name
    }
}

/// The module name of a service: the service name lowercased without separators, as
/// the AWS SDKs spell it (`SageMaker` → `sagemaker`, `S3` → `s3`).
pub(crate) fn service_module(service: &str) -> String {
    let name: String = service
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    escape_ident(if name.is_empty() {
        "service".to_owned()
    } else {
        name
    })
}

/// The name of an inline type (struct or enum) for property `property` of `parent`:
/// the two joined, unless the property name already starts with the parent's
/// (`LogGroup.LogGroupClass` → `LogGroupClass`, `Transition.StorageClass` →
/// `TransitionStorageClass`).
pub(crate) fn inline_type_name(parent: &str, property: &str) -> String {
    let prop = pascal(property);
    if prop.len() > parent.len() && prop.starts_with(parent) {
        prop
    } else {
        format!("{parent}{prop}")
    }
}

/// Appends `n` to a type or variant name, keeping it `UpperCamelCase`.
pub(crate) fn numbered(name: &str, n: usize) -> String {
    if name.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{name}_{n}")
    } else {
        format!("{name}{n}")
    }
}

/// Escapes one JSON pointer segment (`~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer segment.
pub(crate) fn pointer_unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The property segments of a schema path such as `/properties/A/B`, or `None` when
/// the path does not start with `/properties/`.
pub(crate) fn property_segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/properties/")?;
    Some(rest.split('/').map(pointer_unescape).collect())
}

/// A `readOnlyProperties` entry as a `Fn::GetAtt` attribute name:
/// `/properties/A/B` → `A.B`.
pub(crate) fn attribute_name(path: &str) -> Option<String> {
    property_segments(path).map(|s| s.join("."))
}

/// A `createOnlyProperties` entry as a property path: `/properties/A/B` → `A/B`.
pub(crate) fn property_path(path: &str) -> Option<String> {
    property_segments(path).map(|s| s.join("/"))
}

/// Doc text from a schema description: the first sentence, whitespace collapsed and
/// markdown/rustdoc metacharacters escaped. `None` when there is no text.
pub(crate) fn doc_text(description: &str) -> Option<String> {
    let collapsed = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut sentence = collapsed.as_str();
    let bytes = collapsed.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'.' && bytes.get(i + 1) == Some(&b' ') {
            sentence = &collapsed[..=i];
            break;
        }
    }
    let sentence = sentence.trim();
    if sentence.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(sentence.len());
    for c in sentence.chars() {
        if matches!(
            c,
            '\\' | '[' | ']' | '<' | '>' | '*' | '_' | '`' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    Some(out)
}

/// Inline code for rustdoc: `` `text` ``, with longer fences when `text` has backticks.
pub(crate) fn doc_code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_variants_from_aws_values() {
        assert_eq!(variant_ident("GLACIER_IR"), "GlacierIr");
        assert_eq!(variant_ident("INTELLIGENT_TIERING"), "IntelligentTiering");
        assert_eq!(variant_ident("Glacier"), "Glacier");
        assert_eq!(variant_ident("aws:kms:dsse"), "AwsKmsDsse");
        assert_eq!(variant_ident("AES256"), "Aes256");
        assert_eq!(variant_ident("SSE-C"), "SseC");
        assert_eq!(variant_ident("distinctInstance"), "DistinctInstance");
        assert_eq!(variant_ident("AL2023_x86_64_NVIDIA"), "Al2023X86_64Nvidia");
        assert_eq!(
            variant_ident("all_storage_classes_128K"),
            "AllStorageClasses128K"
        );
        assert_eq!(variant_ident("http/s"), "HttpS");
        assert_eq!(variant_ident("V_1"), "V1");
        assert_eq!(variant_ident("1"), "V1");
        assert_eq!(variant_ident(""), "Empty");
        assert_eq!(variant_ident("self"), "SelfValue");
        assert_eq!(numbered("Glacier", 2), "Glacier2");
        assert_eq!(numbered("Al2", 2), "Al2_2");
    }

    #[test]
    fn field_names_are_snake_case_and_escaped() {
        assert_eq!(
            field_ident("LifecycleConfiguration"),
            "lifecycle_configuration"
        );
        assert_eq!(field_ident("KMSMasterKeyID"), "kms_master_key_id");
        assert_eq!(field_ident("SSEAlgorithm"), "sse_algorithm");
        assert_eq!(field_ident("Ec2SshKey"), "ec2_ssh_key");
        assert_eq!(field_ident("S3TablesDestination"), "s3_tables_destination");
        assert_eq!(field_ident("MaxPayloadInMB"), "max_payload_in_mb");
        assert_eq!(field_ident("deadLetterTargetArn"), "dead_letter_target_arn");
        assert_eq!(field_ident("Type"), "r#type");
        assert_eq!(field_ident("Match"), "r#match");
        assert_eq!(field_ident("Self"), "self_");
        assert_eq!(field_ident("Super"), "super_");
        assert_eq!(field_ident("3Prefix"), "n3_prefix");
    }

    #[test]
    fn type_and_module_names() {
        assert_eq!(pascal("Nodegroup"), "Nodegroup");
        assert_eq!(pascal("AwsVpcConfiguration"), "AwsVpcConfiguration");
        assert_eq!(pascal("iso8601UTC"), "Iso8601Utc");
        assert_eq!(pascal("S3KeyFilter"), "S3KeyFilter");
        assert_eq!(
            inline_type_name("Transition", "StorageClass"),
            "TransitionStorageClass"
        );
        assert_eq!(
            inline_type_name("LogGroup", "LogGroupClass"),
            "LogGroupClass"
        );
        assert_eq!(inline_type_name("LogGroup", "LogGroup"), "LogGroupLogGroup");
        assert_eq!(service_module("SageMaker"), "sagemaker");
        assert_eq!(service_module("S3"), "s3");
        assert_eq!(snake("PodIdentityAssociation"), "pod_identity_association");
    }

    #[test]
    fn schema_paths_convert_to_attributes_and_property_paths() {
        assert_eq!(attribute_name("/properties/Arn").as_deref(), Some("Arn"));
        assert_eq!(
            attribute_name("/properties/MetadataConfiguration/Destination").as_deref(),
            Some("MetadataConfiguration.Destination")
        );
        assert_eq!(
            property_path("/properties/EncryptionConfiguration/KmsKey").as_deref(),
            Some("EncryptionConfiguration/KmsKey")
        );
        assert_eq!(property_path("/properties/A~1B").as_deref(), Some("A/B"));
        assert_eq!(attribute_name("/definitions/X"), None);
    }

    #[test]
    fn doc_text_is_first_sentence_escaped() {
        assert_eq!(
            doc_text("  The  name of the [bucket]. More text. ").as_deref(),
            Some("The name of the \\[bucket\\].")
        );
        assert_eq!(
            doc_text("Uses <b>html</b> and a_b").as_deref(),
            Some("Uses \\<b\\>html\\</b\\> and a\\_b")
        );
        assert_eq!(doc_text("v1.2 is fine"), Some("v1.2 is fine".to_owned()));
        assert_eq!(doc_text("   "), None);
        assert_eq!(doc_code("a`b"), "`` a`b ``");
    }
}
