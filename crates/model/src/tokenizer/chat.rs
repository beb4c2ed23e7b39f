//! An instruct model's chat template: the Jinja text its checkpoint ships (GGUF metadata
//! `tokenizer.chat_template`, or `chat_template.jinja` / `tokenizer_config.json` beside an HF
//! checkpoint) that marks a conversation up with the special tokens the model was trained on.
//!
//! Rendered as Hugging Face's `apply_chat_template` renders it: Jinja with `trim_blocks` and
//! `lstrip_blocks`, loop controls, Python's string methods, `raise_exception`, the special
//! tokens as variables (`bos_token`, `eos_token`).

use std::path::Path;

#[cfg(feature = "chat-templates")]
use minijinja::syntax::SyntaxConfig;
#[cfg(feature = "chat-templates")]
use minijinja::{context, Environment, ErrorKind, Value};

use crate::checkpoint::checks;
use crate::error::{Error, Result};

/// A checkpoint's chat template and the special tokens it may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTemplate {
    source: String,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    pub fn new(source: String, bos_token: String, eos_token: String) -> ChatTemplate {
        ChatTemplate {
            source,
            bos_token,
            eos_token,
        }
    }

    /// The template's Jinja text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text the model reads for one user message, the assistant's turn opened after it
    /// (`add_generation_prompt=True`): what it was trained to answer.
    #[cfg(feature = "chat-templates")]
    pub fn render_user(&self, message: &str) -> Result<String> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(template_error)?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<Value, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        let template = env
            .template_from_str(&self.source)
            .map_err(template_error)?;
        let messages = [Value::from_pairs([("role", "user"), ("content", message)])];
        template
            .render(context! {
                messages => Value::from_iter(messages),
                add_generation_prompt => true,
                bos_token => self.bos_token.as_str(),
                eos_token => self.eos_token.as_str(),
            })
            .map_err(template_error)
    }

    /// Without the `chat-templates` feature no template is offered
    /// ([`crate::Tokenizer::chat_template`] is `None`), so this is never reached.
    #[cfg(not(feature = "chat-templates"))]
    pub fn render_user(&self, _message: &str) -> Result<String> {
        Err(Error::ChatTemplate(
            "this build of nexttoken renders no chat templates".into(),
        ))
    }

    /// The template beside an HF checkpoint: `chat_template.jinja` (how `transformers` saves it
    /// now), else `tokenizer_config.json`'s `chat_template` (a string, or a list of named ones
    /// of which `default` is used); `Ok(None)` when the directory has neither.
    pub fn from_dir(dir: &Path) -> Result<Option<ChatTemplate>> {
        let config_path = dir.join("tokenizer_config.json");
        let config: serde_json::Value = match config_path.exists() {
            true => {
                let text = checks::read_text(&config_path, checks::MAX_TOKENIZER_BYTES)?;
                serde_json::from_str(&text).map_err(|e| Error::Format {
                    path: config_path.clone(),
                    msg: e.to_string(),
                })?
            }
            false => serde_json::Value::Null,
        };
        let jinja = dir.join("chat_template.jinja");
        let source = match jinja.exists() {
            true => Some(checks::read_text(&jinja, checks::MAX_TOKENIZER_BYTES)?),
            false => named_default(&config["chat_template"]),
        };
        let token = |key: &str| match &config[key] {
            serde_json::Value::String(s) => s.clone(),
            other => other["content"].as_str().unwrap_or_default().to_string(),
        };
        Ok(source.map(|s| ChatTemplate::new(s, token("bos_token"), token("eos_token"))))
    }
}

/// `"…"`, or `[{"name": "default", "template": "…"}, …]`.
fn named_default(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(list) => list
            .iter()
            .find(|t| t["name"] == "default")
            .and_then(|t| t["template"].as_str())
            .map(str::to_string),
        _ => None,
    }
}

#[cfg(feature = "chat-templates")]
fn template_error(e: minijinja::Error) -> Error {
    Error::ChatTemplate(format!("{e:#}"))
}

#[cfg(all(test, feature = "chat-templates"))]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's template, as its GGUF carries it.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn template(source: &str) -> ChatTemplate {
        ChatTemplate::new(source.into(), "<s>".into(), "</s>".into())
    }

    #[test]
    fn smollm2_wraps_one_user_message() {
        let text = template(SMOLLM2).render_user("Hi!").unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging \
             Face<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    /// Block tags take their newline and leading blanks with them, Python's string methods
    /// work, and a template's own refusal is an error in words.
    #[test]
    fn renders_as_transformers_configures_jinja() {
        let source = "{% for m in messages %}\n  {% if m.role == \"user\" %}{{ bos_token }}\
                      {{ m.content.strip().upper() }}\n  {% endif %}\n{% endfor %}\n{{ eos_token }}";
        assert_eq!(
            template(source).render_user("  hi ").unwrap(),
            "<s>HI\n</s>"
        );
        let refuse = "{{ raise_exception('only system messages') }}";
        let err = template(refuse).render_user("x").unwrap_err().to_string();
        assert!(err.contains("only system messages"), "{err}");
        assert!(template("{% for %}").render_user("x").is_err());
    }

    #[test]
    fn reads_the_default_of_named_templates() {
        let dir = tempfile::tempdir().unwrap();
        let config = r#"{"chat_template": [{"name": "tool_use", "template": "T"},
            {"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}"}],
            "bos_token": {"content": "<s>"}, "eos_token": "</s>"}"#;
        std::fs::write(dir.path().join("tokenizer_config.json"), config).unwrap();
        let chat = ChatTemplate::from_dir(dir.path()).unwrap().unwrap();
        assert_eq!(chat.render_user("a").unwrap(), "<s>a");
        std::fs::write(dir.path().join("chat_template.jinja"), "J{{ eos_token }}").unwrap();
        let chat = ChatTemplate::from_dir(dir.path()).unwrap().unwrap();
        assert_eq!(chat.render_user("a").unwrap(), "J</s>");
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(ChatTemplate::from_dir(empty.path()).unwrap(), None);
    }
}
