//! The models each simulated provider serves: two for each kind of call, the first the
//! default. A request picks one with its `model` field (as OpenAI's API does) or
//! `?model=`; a model the provider does not serve is a 400 that names it.

/// The kinds of call a model serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Transcription and translation.
    Listen,
    /// Speech synthesis.
    Speak,
    /// Realtime sessions.
    Converse,
}

impl ModelKind {
    fn describe(self) -> &'static str {
        match self {
            ModelKind::Listen => "transcription",
            ModelKind::Speak => "speech",
            ModelKind::Converse => "realtime",
        }
    }
}

/// A provider's models.
#[derive(Debug, Clone, Copy)]
pub struct Models {
    listen: [&'static str; 2],
    speak: [&'static str; 2],
    converse: [&'static str; 2],
}

impl Models {
    /// The models the demo's providers serve, by provider name (`generic-*` for others).
    pub fn of(provider: &str) -> Models {
        let (listen, speak, converse) = match provider {
            "openai" => (
                ["gpt-4o-transcribe", "whisper-1"],
                ["tts-1", "tts-1-hd"],
                ["gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview"],
            ),
            "deepgram" => (
                ["nova-3", "nova-2"],
                ["aura-2", "aura-1"],
                ["nova-3-agent", "nova-2-agent"],
            ),
            "elevenlabs" => (
                ["scribe_v1", "scribe_v1_experimental"],
                ["eleven_flash_v2_5", "eleven_multilingual_v2"],
                ["eleven_flash_agent", "eleven_turbo_agent"],
            ),
            "azure" => (
                ["azure-stt-standard", "azure-stt-fast"],
                ["azure-neural", "azure-neural-hd"],
                ["azure-voice-live", "azure-voice-live-lite"],
            ),
            _ => (
                ["generic-listen", "generic-listen-lite"],
                ["generic-speak", "generic-speak-hd"],
                ["generic-converse", "generic-converse-lite"],
            ),
        };
        Models {
            listen,
            speak,
            converse,
        }
    }

    /// The two models of a kind, the default first.
    pub fn of_kind(&self, kind: ModelKind) -> [&'static str; 2] {
        match kind {
            ModelKind::Listen => self.listen,
            ModelKind::Speak => self.speak,
            ModelKind::Converse => self.converse,
        }
    }

    /// The model a request asked for (the default when it asked for none), or why it
    /// cannot be served.
    pub fn choose(
        &self,
        provider: &str,
        kind: ModelKind,
        requested: Option<&str>,
    ) -> Result<&'static str, String> {
        let served = self.of_kind(kind);
        match requested {
            None | Some("") => Ok(served[0]),
            Some(model) => served.into_iter().find(|m| *m == model).ok_or_else(|| {
                format!(
                    "model `{model}` is not served by {provider} for {}; it serves {} and {}",
                    kind.describe(),
                    served[0],
                    served[1]
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gets_the_default_its_choice_or_an_error_naming_the_model() {
        let models = Models::of("openai");
        assert_eq!(
            models.choose("openai", ModelKind::Listen, None),
            Ok("gpt-4o-transcribe")
        );
        assert_eq!(
            models.choose("openai", ModelKind::Speak, Some("tts-1-hd")),
            Ok("tts-1-hd")
        );
        let error = models
            .choose("openai", ModelKind::Speak, Some("whisper-1"))
            .unwrap_err();
        assert!(
            error.contains("`whisper-1` is not served by openai for speech"),
            "{error}"
        );
        assert!(error.contains("tts-1 and tts-1-hd"), "{error}");
    }
}
