//! The trainer's progress events: one JSON object per line (trainer/README.md, "Progress events").

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One problem the dataset check found, with the file it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataProblem {
    /// `missing_folder`, `empty`, `duplicate`, `unpaired_photo`, `unpaired_label`,
    /// `unreadable`, `label_not_ids`, `size_mismatch` or `bad_label_values`.
    pub kind: String,
    #[serde(default)]
    pub path: Option<PathBuf>,
    pub message: String,
}

/// The result of the dataset check (`check` event, or `check --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub ok: bool,
    #[serde(default)]
    pub dataset: String,
    /// Photo/label pairs found.
    #[serde(default)]
    pub pairs: u64,
    #[serde(default)]
    pub problems: Vec<DataProblem>,
}

/// An event of `scenebrush_trainer train`, by its `event` field. Fields the app does not use
/// are kept as JSON (`model`, `train`), and event kinds it does not know are `Unknown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainerEvent {
    Check(CheckReport),
    Start {
        /// 0, or where a resumed run continues.
        step: u64,
        steps: u64,
        #[serde(default)]
        out: Option<PathBuf>,
        #[serde(default)]
        device: Option<String>,
        #[serde(default)]
        world: Option<u32>,
        #[serde(default)]
        images: Option<u64>,
        #[serde(default)]
        model: serde_json::Value,
        #[serde(default)]
        train: serde_json::Value,
    },
    /// `phase` `start`: the trainer compiles `nets` with torch.compile before the first step
    /// (minutes without output; the start event's `train.compile` says so too).
    Compile {
        #[serde(default)]
        phase: String,
        #[serde(default)]
        nets: Vec<String>,
        #[serde(default)]
        note: Option<String>,
    },
    Step {
        /// Steps done.
        step: u64,
        steps: u64,
        #[serde(default)]
        epoch: Option<f64>,
        #[serde(default)]
        losses: BTreeMap<String, f64>,
        #[serde(default)]
        lr_g: Option<f64>,
        #[serde(default)]
        images_per_s: Option<f64>,
        #[serde(default)]
        eta_s: Option<f64>,
    },
    Sample {
        step: u64,
        /// A PNG grid: rows of label colours, photos, generated images.
        path: PathBuf,
    },
    Checkpoint {
        step: u64,
        path: PathBuf,
    },
    Stopped {
        step: u64,
        #[serde(default)]
        steps: Option<u64>,
        /// `SIGINT`, `SIGTERM` or `until`.
        #[serde(default)]
        reason: String,
        #[serde(default)]
        checkpoint: Option<PathBuf>,
    },
    Finished {
        step: u64,
        #[serde(default)]
        steps: Option<u64>,
        #[serde(default)]
        seconds: Option<f64>,
        #[serde(default)]
        checkpoint: Option<PathBuf>,
    },
    Exported {
        /// The package folder.
        path: PathBuf,
        id: String,
        #[serde(default)]
        max_abs_diff: BTreeMap<String, Option<f64>>,
        #[serde(default)]
        step: Option<u64>,
    },
    Error {
        message: String,
        #[serde(default)]
        kind: Option<String>,
    },
    #[serde(other)]
    Unknown,
}

/// A line of the events stream that is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventParseError {
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("the JSON object has no \"event\" field")]
    NoEvent,
    #[error("malformed {event:?} event: {message}")]
    Malformed { event: String, message: String },
}

/// Parses one line of the events stream (surrounding whitespace ignored).
pub fn parse_event(line: &str) -> Result<TrainerEvent, EventParseError> {
    let value: serde_json::Value =
        serde_json::from_str(line.trim()).map_err(|e| EventParseError::NotJson(e.to_string()))?;
    let Some(name) = value
        .get("event")
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Err(EventParseError::NoEvent);
    };
    serde_json::from_value(value).map_err(|e| EventParseError::Malformed {
        event: name,
        message: e.to_string(),
    })
}

impl TrainerEvent {
    /// The event's name as the trainer writes it.
    pub fn name(&self) -> &'static str {
        match self {
            TrainerEvent::Check(_) => "check",
            TrainerEvent::Start { .. } => "start",
            TrainerEvent::Compile { .. } => "compile",
            TrainerEvent::Step { .. } => "step",
            TrainerEvent::Sample { .. } => "sample",
            TrainerEvent::Checkpoint { .. } => "checkpoint",
            TrainerEvent::Stopped { .. } => "stopped",
            TrainerEvent::Finished { .. } => "finished",
            TrainerEvent::Exported { .. } => "exported",
            TrainerEvent::Error { .. } => "error",
            TrainerEvent::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Lines as `scenebrush_trainer train` wrote them (tiny preset, 64x64, 2 steps, exported).
    pub(crate) const RECORDED: &[&str] = &[
        r#"{"event": "check", "time": 1795551371.934, "ok": true, "dataset": "data", "pairs": 4, "problems": []}"#,
        r#"{"event": "start", "time": 1795551373.45, "step": 0, "steps": 2, "out": "/tmp/sb6/run", "device": "cpu", "world": 1, "images": 4, "model": {"generator": "spade", "discriminator": "fpse", "ngf": 4, "ndf": 8, "nhidden": 8, "z_dim": 32, "encoder": false, "num_up": 5, "height": 64, "width": 64}, "train": {"steps": 2, "batch_size": 1, "lr_g": 0.0001, "lr_d": 0.0004, "beta1": 0.0, "beta2": 0.9, "decay_from": 0.5, "lambda_feat": 10.0, "lambda_kld": 0.05, "lambda_vgg": 10.0, "vgg_weights": null, "ema": 0.0, "seed": 0, "flip": true, "amp": "off", "channels_last": false, "checkpoint_every": 500, "sample_every": 1, "log_every": 1}}"#,
        r#"{"event": "step", "time": 1795551382.568, "step": 1, "steps": 2, "epoch": 0.25, "losses": {"d_real": 2.989696979522705, "d_fake": 3.011702537536621, "g_gan": -0.011889433488249779, "g_feat": 25.24713134765625}, "lr_g": 0.0001, "images_per_s": 0.11, "eta_s": 9.1}"#,
        r#"{"event": "sample", "time": 1795551382.779, "step": 1, "path": "/tmp/sb6/run/samples/step_0000001.png"}"#,
        r#"{"event": "checkpoint", "time": 1795551383.099, "step": 2, "path": "/tmp/sb6/run/checkpoint.pt"}"#,
        r#"{"event": "finished", "time": 1795551383.099, "step": 2, "steps": 2, "seconds": 9.6, "checkpoint": "/tmp/sb6/run/checkpoint.pt"}"#,
        r#"{"event": "exported", "time": 1795551386.461, "path": "/tmp/sb6/pkg", "id": "pkg", "max_abs_diff": {"model.onnx": 1.5279510989785194e-09}, "step": 2}"#,
    ];

    /// Lines as `scenebrush_trainer train --dataset camvid --preset tiny --height 64 --width 64
    /// --discriminator oasis --diffaug color,translation --steps 2 --log-every 1
    /// --sample-every 0` wrote them: OASIS's losses, `d_labelmix` and no `g_feat`.
    pub(crate) const RECORDED_OASIS: &[&str] = &[
        r#"{"event": "check", "time": 1796145881.129, "ok": true, "dataset": "CamVid train", "pairs": 367, "problems": []}"#,
        r#"{"event": "start", "time": 1796145897.759, "step": 0, "steps": 2, "out": "/tmp/oasis-evt", "device": "cpu", "world": 1, "images": 367, "model": {"generator": "spade", "discriminator": "oasis", "ngf": 4, "ndf": 8, "nhidden": 8, "z_dim": 32, "encoder": false, "num_up": 5, "height": 64, "width": 64}, "train": {"steps": 2, "batch_size": 1, "lr_g": 0.0001, "lr_d": 0.0004, "beta1": 0.0, "beta2": 0.9, "decay_from": 0.5, "lambda_feat": 10.0, "lambda_kld": 0.05, "lambda_vgg": 10.0, "lambda_l1": 0.0, "lambda_ms": 0.0, "ms_tau": 0.2, "ms_pool": 8, "lambda_labelmix": 10.0, "diffaug": "color,translation", "vgg_weights": null, "ema": 0.0, "seed": 0, "flip": true, "amp": "off", "channels_last": false, "compile": false, "checkpoint_every": 500, "sample_every": 0, "log_every": 1}}"#,
        r#"{"event": "step", "time": 1796145898.289, "step": 1, "steps": 2, "epoch": 0.003, "losses": {"d_real": 2.5650455951690674, "d_fake": 2.562715530395508, "d_labelmix": 2.2583069494430674e-06, "g_gan": 2.565349578857422}, "lr_g": 0.0001, "images_per_s": 1.888, "eta_s": 0.5}"#,
        r#"{"event": "step", "time": 1796145898.699, "step": 2, "steps": 2, "epoch": 0.005, "losses": {"d_real": 2.5650200843811035, "d_fake": 2.560023307800293, "d_labelmix": 3.040791170860757e-06, "g_gan": 2.565800666809082}, "lr_g": 0.0001, "images_per_s": 2.446, "eta_s": 0.0}"#,
        r#"{"event": "checkpoint", "time": 1796145898.887, "step": 2, "path": "/tmp/oasis-evt/checkpoint.pt"}"#,
        r#"{"event": "finished", "time": 1796145898.888, "step": 2, "steps": 2, "seconds": 1.1, "checkpoint": "/tmp/oasis-evt/checkpoint.pt"}"#,
    ];

    #[test]
    fn a_recorded_oasis_run_parses_with_its_own_losses() {
        let events: Vec<TrainerEvent> = RECORDED_OASIS
            .iter()
            .map(|l| parse_event(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        let names: Vec<&str> = events.iter().map(TrainerEvent::name).collect();
        assert_eq!(
            names,
            ["check", "start", "step", "step", "checkpoint", "finished"]
        );
        let TrainerEvent::Start { model, train, .. } = &events[1] else {
            panic!("{:?}", events[1]);
        };
        assert_eq!(model["discriminator"], "oasis");
        assert_eq!(train["diffaug"], "color,translation");
        assert_eq!(train["lambda_labelmix"], 10.0);
        for event in &events[2..4] {
            let TrainerEvent::Step { losses, .. } = event else {
                panic!("{event:?}");
            };
            let names: Vec<&str> = losses.keys().map(String::as_str).collect();
            assert_eq!(names, ["d_fake", "d_labelmix", "d_real", "g_gan"]);
        }
        let TrainerEvent::Step { losses, .. } = &events[2] else {
            unreachable!()
        };
        let labelmix = losses["d_labelmix"];
        assert!(
            (labelmix - 2.2583069494430674e-06).abs() < 1e-18,
            "{labelmix}"
        );
    }

    #[test]
    fn every_recorded_event_parses() {
        let events: Vec<TrainerEvent> = RECORDED
            .iter()
            .map(|l| parse_event(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        let names: Vec<&str> = events.iter().map(TrainerEvent::name).collect();
        assert_eq!(
            names,
            [
                "check",
                "start",
                "step",
                "sample",
                "checkpoint",
                "finished",
                "exported"
            ]
        );
        assert_eq!(
            events[0],
            TrainerEvent::Check(CheckReport {
                ok: true,
                dataset: "data".into(),
                pairs: 4,
                problems: vec![],
            })
        );
        let TrainerEvent::Start {
            step,
            steps,
            out,
            device,
            images,
            model,
            train,
            ..
        } = &events[1]
        else {
            panic!("{:?}", events[1]);
        };
        assert_eq!((*step, *steps, *images), (0, 2, Some(4)));
        assert_eq!(out.as_deref(), Some(std::path::Path::new("/tmp/sb6/run")));
        assert_eq!(device.as_deref(), Some("cpu"));
        assert_eq!(model["generator"], "spade");
        assert_eq!(train["batch_size"], 1);
        let TrainerEvent::Step {
            step,
            steps,
            epoch,
            losses,
            lr_g,
            images_per_s,
            eta_s,
        } = &events[2]
        else {
            panic!("{:?}", events[2]);
        };
        assert_eq!((*step, *steps, *epoch), (1, 2, Some(0.25)));
        assert_eq!(losses.len(), 4);
        // serde_json's default float parsing may differ from Python's in the last bit.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(losses["g_feat"], 25.24713134765625), "{losses:?}");
        assert!(close(losses["g_gan"], -0.011889433488249779), "{losses:?}");
        assert_eq!(
            (*lr_g, *images_per_s, *eta_s),
            (Some(0.0001), Some(0.11), Some(9.1))
        );
        assert_eq!(
            events[3],
            TrainerEvent::Sample {
                step: 1,
                path: "/tmp/sb6/run/samples/step_0000001.png".into()
            }
        );
        assert_eq!(
            events[4],
            TrainerEvent::Checkpoint {
                step: 2,
                path: "/tmp/sb6/run/checkpoint.pt".into()
            }
        );
        assert_eq!(
            events[5],
            TrainerEvent::Finished {
                step: 2,
                steps: Some(2),
                seconds: Some(9.6),
                checkpoint: Some("/tmp/sb6/run/checkpoint.pt".into())
            }
        );
        let TrainerEvent::Exported {
            path,
            id,
            max_abs_diff,
            step,
        } = &events[6]
        else {
            panic!("{:?}", events[6]);
        };
        assert_eq!(
            (path.to_str(), id.as_str(), *step),
            (Some("/tmp/sb6/pkg"), "pkg", Some(2))
        );
        let diff = max_abs_diff["model.onnx"].expect("a difference");
        assert!((diff - 1.5279510989785194e-09).abs() < 1e-20, "{diff}");
    }

    #[test]
    fn check_with_problems_stopped_and_error_parse() {
        // `check --json` has no time field.
        let check = parse_event(
            r#"{"event": "check", "ok": false, "dataset": "bad", "pairs": 2, "problems": [{"kind": "unpaired_photo", "path": "/d/photos/extra.png", "message": "photo extra.png has no label map extra.png in /d/labels"}, {"kind": "missing_folder", "path": null, "message": "no folder"}]}"#,
        )
        .expect("check");
        let TrainerEvent::Check(report) = check else {
            panic!("{check:?}");
        };
        assert!(!report.ok);
        assert_eq!(report.pairs, 2);
        assert_eq!(report.problems.len(), 2);
        assert_eq!(report.problems[0].kind, "unpaired_photo");
        assert_eq!(
            report.problems[0].path.as_deref(),
            Some(std::path::Path::new("/d/photos/extra.png"))
        );
        assert_eq!(report.problems[1].path, None);

        let stopped = parse_event(
            r#"{"event": "stopped", "time": 1.0, "step": 7, "steps": 40, "reason": "SIGTERM", "checkpoint": "/r/checkpoint.pt"}"#,
        )
        .expect("stopped");
        assert_eq!(
            stopped,
            TrainerEvent::Stopped {
                step: 7,
                steps: Some(40),
                reason: "SIGTERM".into(),
                checkpoint: Some("/r/checkpoint.pt".into())
            }
        );
        let error = parse_event(
            r#"{"event": "error", "time": 1795551396.873, "message": "no checkpoint at /tmp/x.pt", "kind": "CheckpointError"}"#,
        )
        .expect("error");
        assert_eq!(
            error,
            TrainerEvent::Error {
                message: "no checkpoint at /tmp/x.pt".into(),
                kind: Some("CheckpointError".into())
            }
        );
        // The encoder's export difference may be absent (null) and losses may include more terms.
        let exported = parse_event(
            r#"{"event": "exported", "path": "/p", "id": "p", "max_abs_diff": {"model.onnx": 1e-6, "encoder.onnx": null}}"#,
        )
        .expect("exported");
        assert!(matches!(
            exported,
            TrainerEvent::Exported { step: None, .. }
        ));
        let step = parse_event(
            r#"{"event": "step", "step": 3, "steps": 9, "losses": {"g_kld": 0.5, "g_vgg": 1.5}}"#,
        )
        .expect("step");
        assert!(matches!(step, TrainerEvent::Step { losses, .. } if losses["g_vgg"] == 1.5));
    }

    #[test]
    fn unknown_events_and_bad_lines() {
        assert_eq!(
            parse_event(r#"{"event": "heartbeat", "time": 3}"#),
            Ok(TrainerEvent::Unknown)
        );
        assert_eq!(
            parse_event(
                r#"{"event": "compile", "time": 2, "phase": "start", "nets": ["G", "D"], "note": "minutes"}"#
            ),
            Ok(TrainerEvent::Compile {
                phase: "start".into(),
                nets: vec!["G".into(), "D".into()],
                note: Some("minutes".into()),
            })
        );
        assert!(matches!(
            parse_event(r#"{"event": "compile"}"#),
            Ok(TrainerEvent::Compile { nets, note: None, .. }) if nets.is_empty()
        ));
        assert!(matches!(
            parse_event("12:00:01 INFO step 1/2"),
            Err(EventParseError::NotJson(_))
        ));
        assert_eq!(parse_event(r#"{"step": 1}"#), Err(EventParseError::NoEvent));
        let err = parse_event(r#"{"event": "step", "steps": 2}"#).expect_err("no step");
        assert!(
            err.to_string().contains("malformed \"step\" event")
                && err.to_string().contains("step"),
            "{err}"
        );
    }
}
