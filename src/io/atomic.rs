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
}
