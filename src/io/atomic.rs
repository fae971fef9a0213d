use std::io::Write;
use std::path::Path;

use super::IoError;

/// Writes a file so that it either appears complete or not at all: the bytes go to a temporary
/// file in the same folder, which is flushed to disk and renamed over `path`. With
/// `overwrite == false` an existing `path` is an error and is left untouched (also when it
/// appears while writing).
pub fn atomic_write(
    path: &Path,
    overwrite: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), IoError> {
    let write_err = |e: &dyn std::fmt::Display| IoError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| write_err(&"the path has no file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(IoError::NoFolder(dir.to_path_buf()));
    }
    if !overwrite && path.exists() {
        return Err(IoError::Exists(path.to_path_buf()));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", file_name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| write_err(&e))?;
    {
        let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut buffered).map_err(|e| write_err(&e))?;
        buffered.flush().map_err(|e| write_err(&e))?;
    }
    tmp.as_file().sync_all().map_err(|e| write_err(&e))?;
    #[cfg(unix)]
    {
        // Temporary files are private (0600); an exported file should read like any other.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| write_err(&e))?;
    }
    if overwrite {
        tmp.persist(path).map_err(|e| write_err(&e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                IoError::Exists(path.to_path_buf())
            } else {
                write_err(&e.error)
            }
        })?;
    }
    Ok(())
}

/// Moves `path` aside to the first free name of `<stem>.<ext>`, `<stem>-2.<ext>`, ... in its
/// folder and returns that name. Never replaces a file: the name is claimed with an exclusive
/// create before the rename, so an earlier file kept aside (or one appearing meanwhile) stays.
pub fn move_aside(path: &Path, stem: &str) -> Result<std::path::PathBuf, IoError> {
    let write_err = |e: &dyn std::fmt::Display| IoError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    for k in 1..=MAX_ASIDE {
        let name = if k == 1 {
            format!("{stem}{ext}")
        } else {
            format!("{stem}-{k}{ext}")
        };
        let dest = path.with_file_name(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(write_err(&e)),
        }
        // The empty placeholder is ours; the rename replaces only it.
        return match std::fs::rename(path, &dest) {
            Ok(()) => Ok(dest),
            Err(e) => {
                let _ = std::fs::remove_file(&dest);
                Err(write_err(&e))
            }
        };
    }
    Err(write_err(&format!(
        "{MAX_ASIDE} files named {stem}* are already kept next to it; move some away"
    )))
}

/// How many files [`move_aside`] keeps side by side before it gives up.
const MAX_ASIDE: u32 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("read_dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_refuses_overwrite_and_cleans_up_on_failure() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("out.bin");
        atomic_write(&p, false, |w| w.write_all(b"first")).expect("first write");
        assert_eq!(std::fs::read(&p).expect("read"), b"first");

        let err = atomic_write(&p, false, |w| w.write_all(b"second")).expect_err("exists");
        assert!(matches!(err, IoError::Exists(_)), "{err}");
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&p).expect("read"), b"first");

        // A writer that fails halfway leaves the old file and no temporary behind.
        let err = atomic_write(&p, true, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        })
        .expect_err("failing writer");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read(&p).expect("read"), b"first");
        assert_eq!(names(tmp.path()), ["out.bin"]);

        atomic_write(&p, true, |w| w.write_all(b"second")).expect("overwrite");
        assert_eq!(std::fs::read(&p).expect("read"), b"second");
        assert_eq!(names(tmp.path()), ["out.bin"]);

        let err = atomic_write(&tmp.path().join("nope/out.bin"), false, |w| {
            w.write_all(b"x")
        })
        .expect_err("missing folder");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn moving_aside_never_replaces_an_earlier_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("layout.png");
        let mut kept = Vec::new();
        for content in [b"first", b"secnd", b"third"] {
            std::fs::write(&p, content).expect("write");
            kept.push(move_aside(&p, "layout-not-restored").expect("moved"));
            assert!(!p.exists());
        }
        assert_eq!(
            names(tmp.path()),
            [
                "layout-not-restored-2.png",
                "layout-not-restored-3.png",
                "layout-not-restored.png"
            ]
        );
        for (path, content) in kept.iter().zip([b"first", b"secnd", b"third"]) {
            assert_eq!(std::fs::read(path).expect("read"), content);
        }
        // Nothing to move: an error naming the file, and no placeholder left behind.
        let err = move_aside(&p, "layout-not-restored").expect_err("missing");
        assert!(err.to_string().contains("layout.png"), "{err}");
        assert_eq!(names(tmp.path()).len(), 3);
    }
}
