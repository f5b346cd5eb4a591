//! A traffic generator: real HTTP and WebSocket requests against the gateway's own API,
//! so `/metrics` fills up without any client.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio_tungstenite::tungstenite::Message;

use super::models::{ModelKind, Models};
use super::providers::{BYTES_PER_AUDIO_SECOND, wav_of_silence};
use super::sim::Rng;

/// The demo's providers, which the traffic addresses by name so it can pick their models.
const PROVIDERS: [&str; 4] = ["openai", "deepgram", "elevenlabs", "azure"];

/// A provider and one of its models of `kind`: the default seven times in ten.
fn provider_and_model(rng: &mut Rng, kind: ModelKind) -> (&'static str, &'static str) {
    let provider = PROVIDERS[rng.below(PROVIDERS.len())];
    let models = Models::of(provider).of_kind(kind);
    let model = if rng.unit() < 0.7 {
        models[0]
    } else {
        models[1]
    };
    (provider, model)
}

const PHRASES: [&str; 6] = [
    "Welcome to Conduit.",
    "Your order has shipped.",
    "Please hold while we connect you.",
    "The meeting starts in five minutes.",
    "Thank you for calling.",
    "Goodbye!",
];

/// Sends about `per_second` requests a second to the API at `api` until `stop` resolves:
/// transcriptions of sizes across the size buckets, cached and uncached speech,
/// translations, and realtime sessions of a few turns, each to a named provider and one of
/// its two models. About a third of the speech and
/// transcription requests are streamed (chunked audio, Server-Sent Events), and about a
/// third of the HTTP requests carry a W3C `traceparent` of a sampled trace, as if a
/// traced client sent them (their calls leave exemplars).
pub async fn run(api: SocketAddr, per_second: f64, stop: impl std::future::Future<Output = ()>) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut rng = Rng::new(0xC0FFEE);
    let period = Duration::from_secs_f64(1.0 / per_second.clamp(0.01, 1000.0));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => return,
        }
        let dice = rng.unit();
        let client = client.clone();
        let traceparent = (rng.unit() < 0.35).then(|| traceparent(&mut rng));
        if dice < 0.45 {
            let seconds = [0.02, 0.2, 2.0, 20.0, 120.0][rng.below(5)];
            let audio = wav_of_silence((seconds * BYTES_PER_AUDIO_SECOND as f64) as usize);
            let (provider, model) = provider_and_model(&mut rng, ModelKind::Listen);
            let stream = rng.unit() < 0.3;
            let path = format!(
                "/v1/audio/transcriptions?provider={provider}&model={model}&stream={stream}"
            );
            tokio::spawn(post(client, api, traceparent, path, "audio/wav", audio));
        } else if dice < 0.55 {
            let audio = wav_of_silence(BYTES_PER_AUDIO_SECOND * (1 + rng.below(30)));
            let (provider, model) = provider_and_model(&mut rng, ModelKind::Listen);
            let path = format!("/v1/audio/translations?provider={provider}&model={model}");
            tokio::spawn(post(client, api, traceparent, path, "audio/wav", audio));
        } else if dice < 0.95 {
            let voice = ["alloy", "nova"][rng.below(2)];
            let (provider, model) = provider_and_model(&mut rng, ModelKind::Speak);
            let body = serde_json::json!({
                "input": PHRASES[rng.below(PHRASES.len())],
                "voice": voice,
                "provider": provider,
                "model": model,
                "stream": rng.unit() < 0.35,
            });
            let path = "/v1/audio/speech".to_owned();
            let body = body.to_string().into_bytes();
            tokio::spawn(post(
                client,
                api,
                traceparent,
                path,
                "application/json",
                body,
            ));
        } else {
            let turns = 1 + rng.below(4);
            let provider = ["openai", "azure"][rng.below(2)];
            let models = Models::of(provider).of_kind(ModelKind::Converse);
            let model = models[rng.below(2)];
            tokio::spawn(realtime(api, provider, model, turns, rng.next_u64()));
        }
    }
}

/// A W3C `traceparent` of a new sampled trace: version 00, trace id, parent span id,
/// flags 01 (sampled).
pub fn traceparent(rng: &mut Rng) -> String {
    let trace = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    format!("00-{trace:032x}-{:016x}-01", rng.next_u64() | 1)
}

async fn post(
    client: Client<HttpConnector, Full<Bytes>>,
    api: SocketAddr,
    traceparent: Option<String>,
    path: String,
    content_type: &str,
    body: Vec<u8>,
) {
    let mut request =
        hyper::Request::post(format!("http://{api}{path}")).header("content-type", content_type);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let Ok(request) = request.body(Full::new(Bytes::from(body))) else {
        return;
    };
    if let Ok(response) = client.request(request).await {
        let _ = response.into_body().collect().await;
    }
}

/// A realtime session of `turns` turns: most answered; now and then the user talks over
/// the agent's reply (audio during its playback: interrupted), and some sessions end with
/// the user hanging up before the answer (abandoned).
async fn realtime(api: SocketAddr, provider: &str, model: &str, turns: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let url = format!("ws://{api}/v1/realtime?provider={provider}&model={model}");
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    for turn in 0..turns {
        let message = serde_json::json!({ "type": "input_text", "text": format!("turn {turn}") });
        if socket
            .send(Message::Text(message.to_string().into()))
            .await
            .is_err()
        {
            return;
        }
        if turn + 1 == turns && rng.unit() < 0.15 {
            // Gone before the answer.
            let _ = socket.close(None).await;
            return;
        }
        match socket.next().await {
            Some(Ok(Message::Text(_))) => {}
            _ => return,
        }
        if turn + 1 < turns && rng.unit() < 0.2 {
            // Barge-in: audio while the reply plays, which is also the next utterance.
            if socket
                .send(Message::Binary(vec![0u8; 640].into()))
                .await
                .is_err()
            {
                return;
            }
            match socket.next().await {
                Some(Ok(Message::Text(_))) => {}
                _ => return,
            }
        }
    }
    let _ = socket.close(None).await;
}
