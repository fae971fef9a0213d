//! Start-up decisions, each a function that can be tested alone: which models are on screen and
//! in which order they load, which layout opens (a pure function of what each candidate file
//! holds), what happens to a session layout that cannot be restored (the one place a file is
//! moved), and which model the Train tab offers to fine-tune.

use std::path::{Path, PathBuf};

use crate::canvas::LabelMap;
use crate::inference::ProviderPreference;
use crate::models::ModelPackage;
use crate::ui::state::{AppState, MAX_COMPARE};

use super::messages::ErrorReport;

/// What the GUI is started with.
#[derive(Debug, Clone, Default)]
pub struct AppArgs {
    pub model_dirs: Vec<PathBuf>,
    pub labels: Option<PathBuf>,
    pub provider: ProviderPreference,
    /// Where the layout being painted is kept across restarts; `None` keeps nothing.
    pub session_file: Option<PathBuf>,
    /// Take the style of this photo once the window is up (as *Style from photo…* does).
    pub style_photo: Option<PathBuf>,
    /// Start editing this photo once the window is up (as File → *Edit a photo…* does).
    pub edit_photo: Option<PathBuf>,
    /// With `edit_photo`: the edited layout to start the edit with, as if painted over the
    /// photo's (the command line's `edit --layout`).
    pub edit_layout: Option<PathBuf>,
    /// The model to paint for (the active one) instead of the one chosen last time.
    pub model: Option<String>,
}

/// The model the command line asks for as the active one, or why it cannot be: not among the
/// `generators` found, or found but not `usable` (the Models window says why).
pub fn requested_model(
    wanted: &str,
    generators: &[String],
    usable: impl Fn(&str) -> bool,
) -> Result<String, ErrorReport> {
    if usable(wanted) {
        return Ok(wanted.to_string());
    }
    let title = format!("Cannot start with the model {wanted}");
    let message = if generators.iter().any(|id| id == wanted) {
        format!("{wanted} was found but cannot run; the Models window says why.")
    } else if generators.is_empty() {
        format!("No generator model was found, so {wanted} cannot be either.")
    } else {
        format!(
            "No generator model has the id {wanted}. The models found: {}.",
            generators.join(", ")
        )
    };
    Err(ErrorReport { title, message })
}

/// `current` if it is usable, else the first usable of `generators` (in their order: the
/// default model first). The one rule for the model the canvas paints for, at start-up and when
/// the active model fails.
pub fn choose_active(
    current: Option<&str>,
    generators: &[String],
    usable: impl Fn(&str) -> bool,
) -> Option<String> {
    current
        .filter(|id| usable(id))
        .map(str::to_string)
        .or_else(|| generators.iter().find(|id| usable(id)).cloned())
}

/// The models on screen at start: the active one (see [`choose_active`]) and the compared ones
/// that are usable, topped up to two with the first usable generators.
pub fn choose_models(state: &mut AppState, generators: &[String], usable: impl Fn(&str) -> bool) {
    state.active_model = choose_active(state.active_model.as_deref(), generators, &usable);
    state.compare_models.retain(|id| usable(id));
    for id in generators {
        if state.compare_models.len() >= 2.min(MAX_COMPARE) {
            break;
        }
        if usable(id) && !state.compare_models.contains(id) {
            state.compare_models.push(id.clone());
        }
    }
}

/// The generators in the order the worker loads them: the models on screen first (the active
/// one, then the compared ones), then the others as given.
pub fn load_order(mut packages: Vec<ModelPackage>, state: &AppState) -> Vec<ModelPackage> {
    packages.sort_by_key(|p| {
        let id = &p.meta.id;
        if state.active_model.as_ref() == Some(id) {
            0
        } else if state.compare_models.contains(id) {
            1
        } else {
            2
        }
    });
    packages
}

/// The model an untouched Train tab offers to fine-tune: the first that ships its training
/// checkpoint (the shipped CamVid one when present, as the default generator comes first).
pub fn default_base_model(generators: &[ModelPackage]) -> Option<String> {
    generators
        .iter()
        .find(|p| crate::training::base_checkpoint(p).is_some())
        .map(|p| p.meta.id.clone())
}

/// Where the first layout may come from, in order of preference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutCandidates {
    /// The layout given on the command line.
    pub given: Option<PathBuf>,
    /// The session file, when there is one.
    pub session: Option<PathBuf>,
    /// The first example layout.
    pub example: Option<PathBuf>,
}

/// What became of the session file's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOutcome {
    /// None was tried (no session file, or a layout given on the command line opened).
    Untouched,
    /// It is the layout on the canvas.
    Restored,
    /// It cannot be read with these classes and size: to be kept aside, not overwritten.
    Unreadable { path: PathBuf, reason: String },
}

/// The first layout: `labels` (`None`: the default scene), where it came from (`None` for the
/// session's own layout), the error to show about a given layout, and the session's fate.
#[derive(Debug, Clone, PartialEq)]
pub struct StartLayout {
    pub labels: Option<LabelMap>,
    pub source: Option<PathBuf>,
    pub error: Option<ErrorReport>,
    pub session: SessionOutcome,
}

/// Which layout to start with: the one given on the command line, else the one painted last
/// time, else an example; the first that `load` reads. Pure given `load`, which reads a file
/// into the canvas's classes and size (or says why it cannot); moving an unreadable session
/// file aside is left to [`keep_session_aside`].
pub fn plan_start_layout(
    candidates: &LayoutCandidates,
    mut load: impl FnMut(&Path) -> Result<LabelMap, String>,
) -> StartLayout {
    let mut plan = StartLayout {
        labels: None,
        source: None,
        error: None,
        session: SessionOutcome::Untouched,
    };
    if let Some(path) = &candidates.given {
        match load(path) {
            Ok(map) => {
                plan.labels = Some(map);
                plan.source = Some(path.clone());
                return plan;
            }
            Err(message) => {
                plan.error = Some(ErrorReport {
                    title: "Could not open the layout".into(),
                    message,
                });
            }
        }
    }
    // The given file is not also tried (and kept aside) as the session's.
    if let Some(path) = candidates
        .session
        .as_ref()
        .filter(|p| candidates.given.as_ref() != Some(*p))
    {
        match load(path) {
            Ok(map) => {
                plan.labels = Some(map);
                plan.session = SessionOutcome::Restored;
                return plan;
            }
            Err(reason) => {
                plan.session = SessionOutcome::Unreadable {
                    path: path.clone(),
                    reason,
                };
            }
        }
    }
    if let Some(path) = &candidates.example {
        match load(path) {
            Ok(map) => {
                plan.labels = Some(map);
                plan.source = Some(path.clone());
            }
            Err(e) => tracing::warn!("example layout skipped: {e}"),
        }
    }
    plan
}

/// What to tell about the session's layout, and whether the session file can be written this
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionNotice {
    pub notice: Option<String>,
    pub keep_session: bool,
}

/// Carries out a [`SessionOutcome`]: an unreadable layout (another model's classes, a damaged
/// file, one too large) is moved aside under a name of its own, so an earlier one kept aside is
/// never replaced. If it cannot be moved it is left alone and this session keeps nothing.
pub fn keep_session_aside(outcome: &SessionOutcome) -> SessionNotice {
    match outcome {
        SessionOutcome::Untouched => SessionNotice {
            notice: None,
            keep_session: true,
        },
        SessionOutcome::Restored => SessionNotice {
            notice: Some("Restored the layout you were painting last time".into()),
            keep_session: true,
        },
        SessionOutcome::Unreadable { path, reason } => {
            tracing::warn!("last session's layout not restored: {reason}");
            match crate::io::move_aside(path, "layout-not-restored") {
                Ok(aside) => SessionNotice {
                    notice: Some(format!(
                        "Last session's layout could not be restored ({reason}); it was kept as {}",
                        aside.display()
                    )),
                    keep_session: true,
                },
                Err(move_error) => {
                    tracing::warn!("{move_error}");
                    SessionNotice {
                        notice: Some(format!(
                            "Last session's layout could not be restored ({reason}); it was left \
                             as it is ({move_error}), and this session's layout will not be kept"
                        )),
                        keep_session: false,
                    }
                }
            }
        }
    }
}

/// Example layouts shipped in `assets/layouts/`, sorted by name.
pub fn example_layouts() -> Vec<PathBuf> {
    let Some(dir) = crate::paths::find_app_dir("assets").map(|d| d.join("layouts")) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| super::document::is_png(p))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::camvid;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_requested_model_is_taken_when_usable_else_the_error_says_why() {
        let generators = ids(&["a", "broken"]);
        let usable = |id: &str| id == "a";
        assert_eq!(
            requested_model("a", &generators, usable),
            Ok("a".to_string())
        );
        let found = requested_model("broken", &generators, usable).expect_err("cannot run");
        assert!(found.message.contains("cannot run"), "{found:?}");
        let unknown = requested_model("nope", &generators, usable).expect_err("not found");
        assert!(
            unknown.title.contains("nope") && unknown.message.contains("a, broken"),
            "{unknown:?}"
        );
        let none = requested_model("nope", &[], |_| false).expect_err("no models");
        assert!(none.message.contains("No generator model"), "{none:?}");
    }

    #[test]
    fn the_active_model_is_kept_when_usable_else_the_first_usable_one() {
        let generators = ids(&["default", "b", "c"]);
        // Usable: a generator of the list (a model no longer there is not).
        let all = |id: &str| generators.iter().any(|g| g == id);
        let not_default = |id: &str| all(id) && id != "default";
        assert_eq!(
            choose_active(Some("c"), &generators, all).as_deref(),
            Some("c")
        );
        assert_eq!(
            choose_active(Some("gone"), &generators, all).as_deref(),
            Some("default")
        );
        assert_eq!(
            choose_active(Some("default"), &generators, not_default).as_deref(),
            Some("b")
        );
        assert_eq!(choose_active(None, &generators, |_| false), None);

        let mut state = AppState {
            active_model: Some("default".into()),
            compare_models: ids(&["c", "default"]),
            ..AppState::default()
        };
        choose_models(&mut state, &generators, not_default);
        assert_eq!(state.active_model.as_deref(), Some("b"));
        assert_eq!(state.compare_models, ids(&["c", "b"]));
        let order: Vec<String> = load_order(
            ["default", "b", "c"].iter().map(|id| package(id)).collect(),
            &state,
        )
        .into_iter()
        .map(|p| p.meta.id)
        .collect();
        assert_eq!(order, ids(&["b", "c", "default"]));
    }

    fn package(id: &str) -> ModelPackage {
        let json =
            crate::models::meta_tests_json().replace("\"id\": \"t\"", &format!("\"id\": \"{id}\""));
        ModelPackage {
            dir: PathBuf::from(id),
            meta: crate::models::ModelMeta::from_json(&json).expect("meta"),
            int8: Default::default(),
        }
    }

    /// A loader over named maps: a name not listed cannot be read.
    fn fake_loader<'a>(
        files: &'a [(&'a str, u8)],
        tried: &'a std::cell::RefCell<Vec<String>>,
    ) -> impl FnMut(&Path) -> Result<LabelMap, String> + 'a {
        move |path| {
            let name = path.display().to_string();
            tried.borrow_mut().push(name.clone());
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| LabelMap::new(4, 3, *v))
                .ok_or_else(|| format!("{name} cannot be read"))
        }
    }

    fn candidates(given: Option<&str>, session: Option<&str>) -> LayoutCandidates {
        LayoutCandidates {
            given: given.map(PathBuf::from),
            session: session.map(PathBuf::from),
            example: Some(PathBuf::from("example.png")),
        }
    }

    #[test]
    fn the_start_layout_is_the_given_one_else_the_session_else_an_example() {
        let tried = std::cell::RefCell::new(Vec::new());
        let files = [("given.png", 1), ("session.png", 2), ("example.png", 3)];

        // A readable session layout is restored (no source file: it is the painting itself).
        let plan = plan_start_layout(
            &candidates(None, Some("session.png")),
            fake_loader(&files, &tried),
        );
        assert_eq!(plan.labels, Some(LabelMap::new(4, 3, 2)));
        assert_eq!((plan.source, plan.error), (None, None));
        assert_eq!(plan.session, SessionOutcome::Restored);

        // An unreadable one (damaged, another model's classes, too large) is to be kept
        // aside; an example opens.
        let plan = plan_start_layout(
            &candidates(None, Some("broken.png")),
            fake_loader(&files, &tried),
        );
        assert_eq!(plan.labels, Some(LabelMap::new(4, 3, 3)));
        assert_eq!(plan.source, Some(PathBuf::from("example.png")));
        assert_eq!(
            plan.session,
            SessionOutcome::Unreadable {
                path: PathBuf::from("broken.png"),
                reason: "broken.png cannot be read".into()
            }
        );

        // No session file: the example.
        let plan = plan_start_layout(&candidates(None, None), fake_loader(&files, &tried));
        assert_eq!(plan.source, Some(PathBuf::from("example.png")));
        assert_eq!(plan.session, SessionOutcome::Untouched);

        // A layout given on the command line wins; the session file is not even read.
        tried.borrow_mut().clear();
        let plan = plan_start_layout(
            &candidates(Some("given.png"), Some("session.png")),
            fake_loader(&files, &tried),
        );
        assert_eq!(plan.source, Some(PathBuf::from("given.png")));
        assert_eq!(plan.session, SessionOutcome::Untouched);
        assert_eq!(*tried.borrow(), ["given.png"]);

        // A given layout that cannot be read is reported; the session's opens instead.
        let plan = plan_start_layout(
            &candidates(Some("bad.png"), Some("session.png")),
            fake_loader(&files, &tried),
        );
        let error = plan.error.expect("an error");
        assert_eq!(error.title, "Could not open the layout");
        assert_eq!(error.message, "bad.png cannot be read");
        assert_eq!(plan.session, SessionOutcome::Restored);

        // Nothing readable: the default scene (no labels), and no source.
        let plan = plan_start_layout(
            &candidates(Some("bad.png"), Some("broken.png")),
            fake_loader(&[], &tried),
        );
        assert_eq!((plan.labels, plan.source), (None, None));
        assert!(plan.error.is_some());
        assert!(matches!(plan.session, SessionOutcome::Unreadable { .. }));

        // The given file named as the session too is reported, not also kept aside.
        let plan = plan_start_layout(
            &candidates(Some("bad.png"), Some("bad.png")),
            fake_loader(&files, &tried),
        );
        assert!(plan.error.is_some());
        assert_eq!(plan.session, SessionOutcome::Untouched);
    }

    #[test]
    fn session_layouts_of_other_classes_are_kept_aside_under_names_of_their_own() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let session = tmp.path().join("layout.png");
        let table = camvid();
        let load = |path: &Path| {
            crate::io::load_label_png(path, &table.classes, table.dontcare)
                .and_then(|m| crate::io::fit_label_map(m, 256, 192, path))
                .map_err(|e| e.to_string())
        };
        let cands = LayoutCandidates {
            session: Some(session.clone()),
            ..LayoutCandidates::default()
        };
        // The classes of the canvas: restored.
        crate::io::save_label_ids_png(&session, &LabelMap::new(256, 192, 3), false).expect("write");
        let plan = plan_start_layout(&cands, load);
        assert_eq!(plan.labels, Some(LabelMap::new(256, 192, 3)));
        let notice = keep_session_aside(&plan.session);
        assert!(notice.keep_session);
        assert_eq!(
            notice.notice.as_deref(),
            Some("Restored the layout you were painting last time")
        );

        // Another model's classes, twice: both kept, neither replaced.
        for (k, aside) in [
            (1, "layout-not-restored.png"),
            (2, "layout-not-restored-2.png"),
        ] {
            std::fs::remove_file(&session).ok();
            crate::io::save_label_ids_png(&session, &LabelMap::new(256, 192, 199 + k), false)
                .expect("write");
            let original = std::fs::read(&session).expect("read");
            let plan = plan_start_layout(&cands, load);
            assert_eq!(plan.labels, None);
            let SessionOutcome::Unreadable { reason, .. } = &plan.session else {
                panic!("{:?}", plan.session);
            };
            assert!(reason.contains(&format!("{}", 199 + k)), "{reason}");
            let notice = keep_session_aside(&plan.session);
            assert!(notice.keep_session);
            let text = notice.notice.expect("a notice");
            assert!(
                text.contains("could not be restored") && text.contains(aside),
                "{text}"
            );
            assert!(!session.exists());
            assert_eq!(
                std::fs::read(tmp.path().join(aside)).expect("kept"),
                original
            );
        }

        // A file that cannot be moved is left alone, and this session keeps nothing.
        let gone = SessionOutcome::Unreadable {
            path: tmp.path().join("no-such-folder/layout.png"),
            reason: "unreadable".into(),
        };
        let notice = keep_session_aside(&gone);
        assert!(!notice.keep_session);
        assert!(
            notice
                .notice
                .is_some_and(|t| t.contains("will not be kept")),
        );
    }

    #[test]
    fn the_train_tab_offers_a_model_with_a_checkpoint() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut with = package("with");
        with.dir = tmp.path().to_path_buf();
        std::fs::write(tmp.path().join(crate::training::CHECKPOINT_FILE), b"x").expect("write");
        assert_eq!(default_base_model(&[package("without")]), None);
        assert_eq!(
            default_base_model(&[package("without"), with]).as_deref(),
            Some("with")
        );
    }
}
