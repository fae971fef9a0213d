//! The style the generators take, the styles the user keeps, and what the result shows while a
//! photo is edited. Stored with the app's settings: a damaged entry (a hand-edited or older
//! settings file) is dropped, with a warning in the log, rather than losing every setting.

use std::path::PathBuf;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

use crate::style::{SavedStyle, Style};

/// What the generators' noise input z is made of.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum StyleChoice {
    /// Noise drawn from `AppState::seed`: works with every model.
    #[default]
    Seed,
    /// The style of this photo: each model with a style encoder takes its own vector from it;
    /// the others use the seed (and say so).
    Photo(PathBuf),
    /// A kept vector style (from the style strip or a style file): only for the model it was
    /// made for; the others use the seed (and say so).
    Saved(SavedStyle),
}

impl StyleChoice {
    /// The photo whose style is chosen, if any.
    pub fn photo(&self) -> Option<&std::path::Path> {
        match self {
            StyleChoice::Photo(path) => Some(path),
            _ => None,
        }
    }

    /// The choice for a kept style: a seed style becomes the seed itself.
    pub fn from_saved(saved: &SavedStyle) -> (StyleChoice, Option<u64>) {
        match &saved.style {
            Style::Seed(seed) => (StyleChoice::Seed, Some(*seed)),
            Style::Vector(_) => (StyleChoice::Saved(saved.clone()), None),
        }
    }
}

/// What the result view shows while a photo is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EditView {
    /// The photo as the model sees it.
    Original,
    /// The photo with the generated image blended in where the layout changed.
    #[default]
    Edited,
    /// Where the generated image is blended in (white: only it; black: the photo's own pixels).
    Mask,
}

impl EditView {
    pub const ALL: [EditView; 3] = [EditView::Original, EditView::Edited, EditView::Mask];

    pub fn label(self) -> &'static str {
        match self {
            EditView::Original => "Original",
            EditView::Edited => "Edited",
            EditView::Mask => "Mask",
        }
    }
}

/// A value or, when it does not read, anything (skipped): keeps the other settings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Good(T),
    Bad(IgnoredAny),
}

/// Deserializes a value, or its default when it is damaged.
pub(super) fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(match Lenient::<T>::deserialize(deserializer)? {
        Lenient::Good(value) => value,
        Lenient::Bad(_) => {
            tracing::warn!(
                "a damaged setting was reset: {}",
                std::any::type_name::<T>()
            );
            T::default()
        }
    })
}

/// Deserializes a list, dropping the entries that do not read.
pub(super) fn lenient_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let entries: Vec<Lenient<T>> = lenient(deserializer)?;
    let total = entries.len();
    let kept: Vec<T> = entries
        .into_iter()
        .filter_map(|e| match e {
            Lenient::Good(value) => Some(value),
            Lenient::Bad(_) => None,
        })
        .collect();
    if kept.len() < total {
        tracing::warn!(
            "{} damaged entries of a settings list were dropped ({})",
            total - kept.len(),
            std::any::type_name::<T>()
        );
    }
    Ok(kept)
}
