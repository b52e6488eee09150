//! Workers' photos: read from files (a path relative to the store's folder,
//! or to `--photos DIR`), or for a URL from the [`PhotoFetcher`] the caller
//! supplies; checked to be an image, embedded in the board. A photo that
//! cannot be had prints a neutral silhouette and is reported.
//!
//! This crate never touches the network itself: whether URLs are fetched is
//! the caller's choice (`gridmap board --fetch-photos`; the HTTP server never
//! fetches, so a public request cannot make it call other hosts).

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest photo file embedded; a board is printed, not an archive.
pub const MAX_PHOTO_BYTES: u64 = 4 << 20;

/// Downloads the photo at a URL: its bytes (at most [`MAX_PHOTO_BYTES`]
/// are asked for), or why not.
pub type PhotoFetcher = Arc<dyn Fn(&str) -> Result<Vec<u8>, String> + Send + Sync>;

/// Where relative photo paths are looked up, and how URLs are fetched.
#[derive(Clone, Default)]
pub struct PhotoSource {
    /// `--photos DIR`: tried first, with the photo's path and with its file name.
    pub photos_dir: Option<PathBuf>,
    /// The store's folder (photo paths in the store are relative to it).
    pub store_dir: Option<PathBuf>,
    /// Fetches photos recorded as URLs; without one they are reported missing.
    pub fetch: Option<PhotoFetcher>,
}

impl std::fmt::Debug for PhotoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhotoSource")
            .field("photos_dir", &self.photos_dir)
            .field("store_dir", &self.store_dir)
            .field("fetch", &self.fetch.is_some())
            .finish()
    }
}

/// A photo ready to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

/// A worker printed with the silhouette, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPhoto {
    pub worker_id: String,
    pub worker_name: String,
    pub photo: String,
    pub reason: String,
}

impl PhotoSource {
    /// The photo `photo` names, or why it cannot be printed.
    pub fn load(&self, photo: &str) -> Result<Photo, String> {
        let photo = photo.trim();
        if photo.is_empty() {
            return Err("no photo recorded".into());
        }
        if photo.contains("://") {
            let Some(fetch) = &self.fetch else {
                return Err(
                    "a URL: pass --fetch-photos to download it, or download the photos and pass --photos DIR"
                        .into(),
                );
            };
            let bytes = fetch(photo)?;
            return checked(photo, bytes);
        }
        let rel = Path::new(photo);
        // A photo path is data anyone with an import could write, and boards
        // are public: it may only name a file inside the photo folder or the
        // store's, never elsewhere on the host.
        if rel.is_absolute()
            || rel.components().any(|c| {
                !matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            return Err(format!(
                "`{photo}` leaves the photo folder (absolute, or with ..): give a path inside --photos DIR or the store's folder"
            ));
        }
        let mut tried = Vec::new();
        {
            if let Some(dir) = &self.photos_dir {
                tried.push(dir.join(rel));
                if let Some(name) = rel.file_name() {
                    tried.push(dir.join(name));
                }
            }
            if let Some(dir) = &self.store_dir {
                tried.push(dir.join(rel));
            }
        }
        let Some(path) = tried.iter().find(|p| p.is_file()) else {
            let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
            return Err(if list.is_empty() {
                "a relative path and no folder to look in".into()
            } else {
                format!("not found (looked at {})", list.join(", "))
            });
        };
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > MAX_PHOTO_BYTES {
            return Err(format!(
                "{}: {size} bytes, more than the {MAX_PHOTO_BYTES} a board embeds",
                path.display()
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        checked(&path.display().to_string(), bytes)
    }
}

/// `bytes` as a photo if they are a small enough image; `from` names them.
fn checked(from: &str, bytes: Vec<u8>) -> Result<Photo, String> {
    if bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(format!(
            "{from}: more than the {MAX_PHOTO_BYTES} bytes a board embeds"
        ));
    }
    let mime =
        sniff(&bytes).ok_or_else(|| format!("{from}: not a PNG, JPEG, GIF or WebP image"))?;
    Ok(Photo { mime, bytes })
}

/// The image type from the file's first bytes.
fn sniff(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_paths_never_leave_the_photo_folders() {
        let dir =
            std::env::temp_dir().join(format!("gridmap-print-outside-{}", std::process::id()));
        let inner = dir.join("photos");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(dir.join("w.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
        let src = PhotoSource {
            photos_dir: Some(inner),
            ..PhotoSource::default()
        };
        let absolute = dir.join("w.png");
        for outside in [absolute.to_str().unwrap(), "../w.png", "a/../../w.png"] {
            let e = src.load(outside).unwrap_err();
            assert!(e.contains("leaves the photo folder"), "{outside}: {e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn photos_are_found_relative_to_the_photo_folder_then_the_store() {
        let dir = std::env::temp_dir().join(format!("gridmap-print-photos-{}", std::process::id()));
        let store = dir.join("store");
        std::fs::create_dir_all(store.join("photos")).unwrap();
        std::fs::create_dir_all(dir.join("flat")).unwrap();
        std::fs::write(store.join("photos/W1.jpg"), [0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        std::fs::write(dir.join("flat/W2.jpg"), b"\x89PNG\r\n\x1a\nrest").unwrap();
        std::fs::write(store.join("photos/W3.jpg"), b"text").unwrap();
        let src = PhotoSource {
            photos_dir: Some(dir.join("flat")),
            store_dir: Some(store.clone()),
            fetch: None,
        };
        assert_eq!(src.load("photos/W1.jpg").unwrap().mime, "image/jpeg");
        assert_eq!(src.load("photos/W2.jpg").unwrap().mime, "image/png");
        assert!(src.load("photos/W3.jpg").unwrap_err().contains("not a PNG"));
        assert!(src.load("photos/W4.jpg").unwrap_err().contains("not found"));
        assert!(src.load("https://x.cn/a.jpg").unwrap_err().contains("URL"));
        assert!(src.load("").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn urls_go_to_the_fetcher_and_what_it_returns_is_checked() {
        let fetch: PhotoFetcher = Arc::new(|url: &str| match url {
            "https://x.cn/a.png" => Ok(b"\x89PNG\r\n\x1a\nrest".to_vec()),
            "https://x.cn/page" => Ok(b"<html>".to_vec()),
            "https://x.cn/big" => Ok(vec![0xFF; MAX_PHOTO_BYTES as usize + 1]),
            other => Err(format!("{other}: HTTP 404")),
        });
        let src = PhotoSource {
            fetch: Some(fetch),
            ..Default::default()
        };
        assert_eq!(src.load("https://x.cn/a.png").unwrap().mime, "image/png");
        assert!(src
            .load("https://x.cn/page")
            .unwrap_err()
            .contains("not a PNG"));
        assert!(src
            .load("https://x.cn/big")
            .unwrap_err()
            .contains("bytes a board embeds"));
        assert!(src.load("https://x.cn/gone").unwrap_err().contains("404"));
    }
}
