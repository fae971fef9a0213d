//! Styles at run time: the vectors the models' style encoders took from the chosen photo, the
//! job encoding a photo on a helper thread, and which style each model on screen renders with.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use crate::style::{SavedStyle, Style, StyleVector};
use crate::ui::state::{AppState, StyleChoice};

/// One model's answer of a style job: its style vector, or why it has none.
pub type EncodedStyle = Result<StyleVector, String>;

/// What a style job reports: per model its vector, or (outer error) why the photo cannot be
/// read at all.
pub type StyleJobResult = Result<Vec<(String, EncodedStyle)>, String>;

/// A photo's style being taken by models' style encoders on a helper thread.
pub struct StyleJob {
    pub photo: PathBuf,
    /// The models it encodes for.
    pub models: Vec<String>,
    /// The user asked for it: when it succeeds the photo becomes the chosen style (and a
    /// failure is reported, keeping the style as it was). Otherwise it fills in models that
    /// came on screen while the photo was already chosen.
    pub apply: bool,
    /// Say nothing when it succeeds (the photo being edited brings its style along).
    pub quiet: bool,
    /// `StyleRuntime::revision` when it started: a job for a style no longer chosen is dropped.
    pub revision: u64,
    pub rx: Receiver<StyleJobResult>,
}

/// The style runtime: which revision the chosen style is at, the chosen photo's vectors.
pub struct StyleRuntime {
    /// Bumped whenever the chosen style changes: renders with a vector carry it in their key.
    pub revision: u64,
    /// The photo the vectors belong to.
    pub photo: Option<PathBuf>,
    /// The chosen photo's style per model id (or why that model has none).
    pub vectors: HashMap<String, EncodedStyle>,
    pub job: Option<StyleJob>,
}

impl Default for StyleRuntime {
    fn default() -> Self {
        Self {
            revision: 1,
            photo: None,
            vectors: HashMap::new(),
            job: None,
        }
    }
}

/// The style one model renders with now.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStyle {
    /// The seed's noise; `why` says why the chosen style is not used (no encoder, a style for
    /// another model, an encoder that failed).
    Seed { seed: u64, why: Option<String> },
    /// A vector: the chosen photo's (from this model's encoder) or a kept one.
    Vector(StyleVector),
    /// The model's encoder is still taking the photo's style: nothing to render yet.
    Waiting,
}

impl ModelStyle {
    /// A caption for the style: "seed 42", "seed 42 (no style encoder)", "style of
    /// street.jpg".
    pub fn caption(&self) -> String {
        match self {
            ModelStyle::Seed { seed, why: None } => format!("seed {seed}"),
            ModelStyle::Seed {
                seed,
                why: Some(why),
            } => format!("seed {seed} ({why})"),
            ModelStyle::Vector(v) => Style::Vector(v.clone()).describe(),
            ModelStyle::Waiting => "taking the photo's style…".into(),
        }
    }

    /// The style to send with a render (`None`: the key's seed).
    pub fn to_style(&self) -> Option<Style> {
        match self {
            ModelStyle::Vector(v) => Some(Style::Vector(StyleVector {
                thumbnail: None,
                ..v.clone()
            })),
            _ => None,
        }
    }
}

impl StyleRuntime {
    /// The chosen style changed: renders with vectors start again, and the photo's vectors (of
    /// another photo) go.
    pub fn changed(&mut self, photo: Option<&Path>) {
        self.revision += 1;
        if self.photo.as_deref() != photo {
            self.vectors.clear();
        }
        self.photo = photo.map(Path::to_path_buf);
    }

    /// The style model `id` renders with for the chosen style. `has_encoder`: whether its
    /// package ships a style encoder.
    pub fn model_style(&self, state: &AppState, id: &str, has_encoder: bool) -> ModelStyle {
        let seed = |why: Option<String>| ModelStyle::Seed {
            seed: state.seed,
            why,
        };
        match &state.style {
            StyleChoice::Seed => seed(None),
            StyleChoice::Photo(_) if !has_encoder => seed(Some("no style encoder".into())),
            StyleChoice::Photo(_) => match self.vectors.get(id) {
                Some(Ok(v)) => ModelStyle::Vector(v.clone()),
                Some(Err(_)) => seed(Some("style encoder failed".into())),
                None => ModelStyle::Waiting,
            },
            StyleChoice::Saved(saved) => match &saved.style {
                Style::Seed(s) => ModelStyle::Seed {
                    seed: *s,
                    why: None,
                },
                Style::Vector(v) if v.model_id == id => ModelStyle::Vector(v.clone()),
                Style::Vector(v) => seed(Some(format!("style is for {}", v.model_id))),
            },
        }
    }

    /// Why model `id`'s encoder gave no style for the chosen photo, if it failed.
    pub fn failure(&self, id: &str) -> Option<&str> {
        match self.vectors.get(id) {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }
}

/// Identifies a style's content (for its preview and texture): the same style, the same number.
pub fn fingerprint(style: &Style) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    match style {
        Style::Seed(seed) => {
            0u8.hash(&mut hasher);
            seed.hash(&mut hasher);
        }
        Style::Vector(v) => return vector_fingerprint(v),
    }
    hasher.finish()
}

/// [`fingerprint`] of a vector style.
pub fn vector_fingerprint(v: &StyleVector) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    1u8.hash(&mut hasher);
    v.model_id.hash(&mut hasher);
    for value in &v.z {
        value.to_bits().hash(&mut hasher);
    }
    hasher.finish()
}

/// Why a kept style cannot be used with the model `id` (of `z_dim`), if it cannot.
pub fn saved_style_unfit(saved: &SavedStyle, id: &str, z_dim: usize) -> Option<String> {
    match &saved.style {
        Style::Seed(_) => None,
        Style::Vector(v) if v.model_id == id && v.z_dim() == z_dim => None,
        Style::Vector(v) if v.model_id == id => Some(format!(
            "made for {} with z_dim {}, but this {} takes {z_dim}: the model changed since",
            v.model_id,
            v.z_dim(),
            id
        )),
        Style::Vector(v) => Some(format!(
            "made for the model {}; a photo's style only fits the model whose encoder took it \
             (choose {} to use it)",
            v.model_id, v.model_id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(model: &str, z: Vec<f32>) -> StyleVector {
        StyleVector {
            z,
            model_id: model.into(),
            source: Some("street.jpg".into()),
            thumbnail: None,
        }
    }

    #[test]
    fn each_model_gets_the_chosen_style_or_says_why_not() {
        let mut rt = StyleRuntime::default();
        let mut state = AppState {
            seed: 5,
            ..AppState::default()
        };
        assert_eq!(
            rt.model_style(&state, "a", true),
            ModelStyle::Seed { seed: 5, why: None }
        );
        state.style = StyleChoice::Photo("street.jpg".into());
        rt.changed(Some(Path::new("street.jpg")));
        assert_eq!(rt.model_style(&state, "a", true), ModelStyle::Waiting);
        let no = rt.model_style(&state, "b", false);
        assert_eq!(no.caption(), "seed 5 (no style encoder)");
        rt.vectors.insert("a".into(), Ok(vector("a", vec![0.5])));
        rt.vectors.insert("c".into(), Err("broken".into()));
        assert_eq!(
            rt.model_style(&state, "a", true).caption(),
            "style of street.jpg"
        );
        assert_eq!(
            rt.model_style(&state, "c", true).caption(),
            "seed 5 (style encoder failed)"
        );
        assert_eq!(rt.failure("c"), Some("broken"));

        state.style = StyleChoice::Saved(SavedStyle::new(
            "mine",
            Style::Vector(vector("a", vec![1.0])),
        ));
        assert!(matches!(
            rt.model_style(&state, "a", true),
            ModelStyle::Vector(_)
        ));
        assert_eq!(
            rt.model_style(&state, "b", true).caption(),
            "seed 5 (style is for a)"
        );
        // Another photo: the vectors of the last one go.
        rt.changed(Some(Path::new("other.jpg")));
        assert!(rt.vectors.is_empty());
    }

    #[test]
    fn fingerprints_follow_the_content() {
        let a = Style::Vector(vector("a", vec![0.5, 1.0]));
        let mut b = vector("a", vec![0.5, 1.0]);
        b.source = None;
        assert_eq!(fingerprint(&a), fingerprint(&Style::Vector(b)));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&Style::Vector(vector("b", vec![0.5, 1.0])))
        );
        assert_ne!(fingerprint(&Style::Seed(1)), fingerprint(&Style::Seed(2)));
    }

    #[test]
    fn kept_styles_fit_their_model_only() {
        let saved = SavedStyle::new("s", Style::Vector(vector("a", vec![0.0; 4])));
        assert_eq!(saved_style_unfit(&saved, "a", 4), None);
        assert!(saved_style_unfit(&saved, "b", 4).is_some_and(|w| w.contains("model a")));
        assert!(saved_style_unfit(&saved, "a", 8).is_some_and(|w| w.contains("z_dim 4")));
        let seed = SavedStyle::new("s", Style::Seed(3));
        assert_eq!(saved_style_unfit(&seed, "b", 0), None);
    }
}
