//! The labelled series of the per-call and voice-turn families, in the order a scrape
//! shows them: providers by label, then operations, then (with `ModelLabel` on) models by
//! label. With the label off there is one series per (operation, provider) and no
//! `model` label, so the exposition is the guide's exactly.

use crate::labels::Operation;
use crate::store::{CallCells, ModelId, ProviderSeries, Striped, TurnCells};

/// The labels of one series: at most operation, provider, model and one more (status,
/// stage, outcome), without allocating.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeriesLabels<'a> {
    pairs: [(&'static str, &'a str); 4],
    len: usize,
}

impl<'a> SeriesLabels<'a> {
    fn new() -> Self {
        SeriesLabels {
            pairs: [("", ""); 4],
            len: 0,
        }
    }

    /// These labels and one more after them.
    pub(super) fn with(mut self, name: &'static str, value: &'a str) -> Self {
        self.pairs[self.len] = (name, value);
        self.len += 1;
        self
    }

    pub(super) fn as_slice(&self) -> &[(&'static str, &'a str)] {
        &self.pairs[..self.len]
    }
}

/// Which models a scrape shows: none (the label is off), or every model label value,
/// sorted by label.
pub(super) type Models<'a> = Option<Vec<(&'a str, ModelId)>>;

/// The (operation, provider[, model]) call series that were used.
pub(super) fn call_series<'a>(
    providers: &'a [(&'a ProviderSeries, usize)],
    models: &'a Models<'a>,
) -> impl Iterator<Item = (SeriesLabels<'a>, &'a Striped<CallCells>)> + 'a {
    providers.iter().flat_map(move |&(series, _)| {
        Operation::ALL.iter().flat_map(move |&operation| {
            let labels = SeriesLabels::new()
                .with("operation", operation.as_str())
                .with("provider", series.label());
            by_model(labels, models, move |model| {
                series.model_calls_if_used(operation, model)
            })
        })
    })
}

/// The (provider[, model]) voice-turn series that had a turn.
pub(super) fn turn_series<'a>(
    providers: &'a [(&'a ProviderSeries, usize)],
    models: &'a Models<'a>,
) -> impl Iterator<Item = (SeriesLabels<'a>, &'a Striped<TurnCells>)> + 'a {
    providers.iter().flat_map(move |&(series, _)| {
        let labels = SeriesLabels::new().with("provider", series.label());
        by_model(labels, models, move |model| series.turns_if_used(model))
    })
}

/// One series without a model label (the label off), or one a used model.
fn by_model<'a, T: 'a>(
    labels: SeriesLabels<'a>,
    models: &'a Models<'a>,
    cells: impl Fn(ModelId) -> Option<&'a T> + 'a,
) -> impl Iterator<Item = (SeriesLabels<'a>, &'a T)> + 'a {
    let unlabelled = match models {
        None => cells(ModelId::UNKNOWN).map(|cells| (labels, cells)),
        Some(_) => None,
    };
    let labelled = models.iter().flatten().filter_map(move |&(model, id)| {
        cells(id).map(|cells| (labels.with("model", model), cells))
    });
    unlabelled.into_iter().chain(labelled)
}
