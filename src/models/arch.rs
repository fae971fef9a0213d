//! The generator architectures and discriminators SceneBrush knows: one enum each, used by the
//! model-package contract (`model.json`), the app's captions and Train tab, the command line and
//! the training plan. The names are the trainer's (`--generator`, `--discriminator`); the trainer
//! builds them from its registries `GENERATORS` and `DISCRIMINATORS` in
//! trainer/scenebrush_trainer/networks/__init__.py.

use serde::{Deserialize, Serialize};

/// A name that is none of an enum's: says what was given and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}; expected one of {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

/// An enum spelled as in `model.json` and the trainer's arguments, with the names people read.
macro_rules! named {
    (
        $(#[$meta:meta])* $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal, $display:literal, $caption:literal, $choice:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling of `model.json` and of the trainer's arguments ("spade", "fpse").
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The short name people read ("SPADE", "FPSE").
            pub fn display_name(self) -> &'static str {
                match self { $($name::$variant => $display),+ }
            }

            /// The phrase under a synthesized image ("SPADE", "FPSE discriminator").
            pub fn caption(self) -> &'static str {
                match self { $($name::$variant => $caption),+ }
            }

            /// The entry in the Train tab's list ("FP + semantic embedding (FPSE)").
            pub fn choice_label(self) -> &'static str {
                match self { $($name::$variant => $choice),+ }
            }

            /// Every spelling, for messages: "spade, ccfpse".
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, UnknownName> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownName {
                        what: $what,
                        given: s.to_string(),
                        expected: Self::names(),
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.display_name())
            }
        }
    };
}

named!(
    /// A generator architecture (`architecture` of a generator package, `--generator`).
    Architecture ("architecture") {
        Spade => "spade", "SPADE", "SPADE", "SPADE";
        Ccfpse => "ccfpse", "CC-FPSE", "CC-FPSE", "CC-FPSE";
    }
);

named!(
    /// What a generator is trained against (`discriminator` of a package, `--discriminator`).
    Discriminator ("discriminator") {
        Patchgan => "patchgan", "PatchGAN", "PatchGAN discriminator", "Multi-scale PatchGAN";
        Fp => "fp", "FP", "feature-pyramid discriminator", "Feature pyramid (FP)";
        Fpse => "fpse", "FPSE", "FPSE discriminator", "FP + semantic embedding (FPSE)";
        /// OASIS's segmentation-based discriminator (N+1 classes per pixel).
        Oasis => "oasis", "OASIS", "OASIS discriminator", "Per-pixel segmentation (OASIS)";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for a in Architecture::ALL {
            assert_eq!(a.as_str().parse::<Architecture>(), Ok(*a));
            let json = serde_json::to_string(a).expect("serialise");
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
        for d in Discriminator::ALL {
            assert_eq!(d.as_str().parse::<Discriminator>(), Ok(*d));
            let back: Discriminator =
                serde_json::from_str(&format!("\"{}\"", d.as_str())).expect("deserialise");
            assert_eq!(back, *d);
        }
        assert_eq!(Discriminator::Oasis.to_string(), "OASIS");
        assert_eq!(Architecture::Ccfpse.to_string(), "CC-FPSE");
        let err = "gan".parse::<Discriminator>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown discriminator \"gan\"; expected one of patchgan, fp, fpse, oasis"
        );
    }
}
