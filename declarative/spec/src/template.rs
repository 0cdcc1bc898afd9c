//! `{{ params.NAME }}` templates: the instance's params put into the
//! manifest's text (hosts, base URLs, headers).

/// Replace each `{{ params.NAME }}` of `text` with `lookup(NAME)`.
pub fn render(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let (name, after) = next_param(&rest[start..])?;
        out.push_str(
            &lookup(name).ok_or_else(|| format!("param `{name}` is not declared or not set"))?,
        );
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

/// The params `text` names, in order.
pub fn template_params(text: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let (name, after) = next_param(&rest[start..])?;
        names.push(name.to_string());
        rest = after;
    }
    Ok(names)
}

/// The param of the template `text` starts with, and what follows it.
fn next_param(text: &str) -> Result<(&str, &str), String> {
    let end = text.find("}}").ok_or_else(|| "unclosed `{{`".to_string())?;
    let inner = text[2..end].trim();
    let name = inner
        .strip_prefix("params.")
        .ok_or_else(|| format!("`{{{{ {inner} }}}}`: only `{{{{ params.NAME }}}}` can be used"))?;
    Ok((name, &text[end + 2..]))
}
