//! `POST /api/chat`: one user message in the chat template of the model serving now (an
//! instruct model's checkpoint ships one; `/api/model` says whether it has one), so the page
//! can run what the model was trained to answer and show the learner every marker it adds.

use serde::{Deserialize, Serialize};

use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    message: String,
}

#[derive(Serialize)]
pub struct ChatResponse {
    /// The template's text: the message inside its markers, the assistant's turn opened.
    text: String,
    /// Its tokens, special markers included.
    count: usize,
}

pub fn chat(engine: &Engine, req: ChatRequest) -> Result<ChatResponse, Error> {
    let tokenizer = &engine.model.tokenizer;
    let template = tokenizer.chat_template().ok_or_else(|| {
        Error::bad(
            "no_chat_template",
            format!("{} ships no chat template", engine.model.name),
        )
    })?;
    let text = template
        .render_user(&req.message)
        .map_err(|e| Error::bad("chat_template", e.to_string()))?;
    Ok(ChatResponse {
        count: tokenizer.encode(&text).len(),
        text,
    })
}
