//! The CamVid class table: the classes the canvas paints with before any model loads (and those
//! of the shipped models). It is read from the one file the trainer reads too,
//! `trainer/scenebrush_trainer/data/camvid_classes.json` (`trainer/examples/camvid_classes.json`
//! links to it), so the app, the examples and the trainer cannot differ. Model packages carry
//! their own classes in `model.json`.

use std::sync::LazyLock;

use serde::Deserialize;

use super::meta::{ClassInfo, validate_classes};

/// The trainer's class-file format: `{"classes": [{id, name, color}], "dontcare": id}`.
const CAMVID_JSON: &str = include_str!("../../trainer/scenebrush_trainer/data/camvid_classes.json");

/// A class list with its don't-care class.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClassTable {
    pub classes: Vec<ClassInfo>,
    #[serde(default)]
    pub dontcare: Option<u8>,
}

impl ClassTable {
    /// Parses and checks a class file of the trainer's format.
    pub fn from_json(text: &str) -> Result<ClassTable, String> {
        let mut table: ClassTable =
            serde_json::from_str(text).map_err(|e| format!("is not a class list: {e}"))?;
        validate_classes(&table.classes, table.dontcare)?;
        table.classes.sort_by_key(|c| c.id);
        Ok(table)
    }

    /// The id of the class with this name (case-insensitive).
    pub fn id_named(&self, name: &str) -> Option<u8> {
        self.classes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.id)
    }
}

static CAMVID: LazyLock<ClassTable> = LazyLock::new(|| {
    ClassTable::from_json(CAMVID_JSON)
        .expect("the bundled CamVid class file is valid (tested by camvid_table_is_the_trainers)")
});

/// The CamVid classes (12, don't care 11 "Unlabelled"), parsed once.
pub fn camvid() -> &'static ClassTable {
    &CAMVID
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camvid_table_is_the_trainers() {
        let table = ClassTable::from_json(CAMVID_JSON).expect("valid");
        assert_eq!(&table, camvid());
        let names: Vec<&str> = table.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Sky",
                "Building",
                "Pole",
                "Road",
                "Pavement",
                "Tree",
                "SignSymbol",
                "Fence",
                "Car",
                "Pedestrian",
                "Bicyclist",
                "Unlabelled"
            ]
        );
        assert_eq!(table.dontcare, Some(11));
        assert_eq!(table.classes[4].color, [60, 40, 222]);
        assert_eq!(table.id_named("road"), Some(3));
        // The trainer reads the very same file (data/classes.py: CAMVID_FILE), and the example
        // class file the READMEs name is a link to it.
        let trainer = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("trainer");
        let python = std::fs::read_to_string(trainer.join("scenebrush_trainer/data/classes.py"))
            .expect("the trainer's classes.py");
        assert!(
            python.contains(r#"CAMVID_FILE = Path(__file__).with_name("camvid_classes.json")"#)
                && python.contains("CAMVID = load_class_list(CAMVID_FILE)"),
            "the trainer's CAMVID no longer comes from camvid_classes.json"
        );
        let example = std::fs::read_to_string(trainer.join("examples/camvid_classes.json"))
            .expect("trainer/examples/camvid_classes.json");
        assert_eq!(example, CAMVID_JSON);
    }

    #[test]
    fn the_shipped_camvid_models_have_these_classes() {
        let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        for id in ["camvid-spade", "camvid-ccfpse", "camvid-segmenter"] {
            let package = crate::models::ModelPackage::load(&models.join(id)).expect(id);
            assert_eq!(package.meta.classes, camvid().classes, "{id}");
            assert_eq!(package.meta.dontcare, camvid().dontcare, "{id}");
        }
    }

    #[test]
    fn bad_class_files_are_refused() {
        for (text, needle) in [
            ("{", "is not a class list"),
            (r#"{"classes": []}"#, "lists 0 classes"),
            (
                r#"{"classes": [{"id": 1, "name": "a", "color": [0, 0, 0]}]}"#,
                "without gaps",
            ),
        ] {
            let err = ClassTable::from_json(text).expect_err(needle);
            assert!(err.contains(needle), "{err}");
        }
    }
}
