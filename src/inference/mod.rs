//! ONNX Runtime: library discovery, execution providers, sessions, tensors and the
//! latest-wins background worker.
mod encoder;
mod providers;
mod runtime;
mod segmenter;
mod session;
mod tensor;
mod worker;

pub use encoder::{StyleEncoder, has_encoder};
pub use providers::{ProviderPreference, ProviderReport, planned_provider};
pub use runtime::{
    MIN_ORT_MINOR, ORT_DYLIB_ENV, RuntimeError, RuntimeInfo, find_library, init_runtime,
    library_file_name, library_search_dirs,
};
pub use segmenter::{
    Segmenter, aspect_crop_rect, crop_to_aspect, fit_photo, labels_from_logits, labels_from_photo,
    photo_tensor, read_photo,
};
pub use session::{Generator, InferenceError, LoadTimings, check_int8_variant, check_package};
pub use tensor::{image_from_tensor, label_tensor_from_map, z_from_seed};
pub use worker::{InferenceWorker, RenderRequest, WorkerEvent};
