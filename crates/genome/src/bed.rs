//! Regions from a BED file (plain or gzip): the first three columns (contig, 0-based
//! start, end) and the name in the fourth when there is one. `track`, `browser` and
//! `#` lines are skipped. Written by hand rather than with noodles-bed: we need only
//! these columns, the header lines real files carry, and errors that name the line.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::error::{GenomeError, Result};

/// One region, 0-based and half-open as BED writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedRegion {
    /// The contig as the file names it.
    pub contig: String,
    /// First position (0-based).
    pub start: u64,
    /// One past the last position.
    pub end: u64,
    /// The fourth column, if any.
    pub name: Option<String>,
    /// 1-based line number in the file.
    pub line: usize,
}

impl BedRegion {
    /// Its length in nucleotides.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether it is empty (never, for a region [`read_bed`] returned).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The name, or `contig:start-end` (1-based start, as genome browsers show it).
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}:{}-{}", self.contig, self.start + 1, self.end))
    }
}

/// Reads every region of `path`, in the file's order.
pub fn read_bed(path: &Path) -> Result<Vec<BedRegion>> {
    let io = |source| GenomeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    if metadata.is_dir() {
        return Err(GenomeError::Format {
            path: path.to_path_buf(),
            message: "is a folder, not a BED file".into(),
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let reader = dnalm_seq::compression::maybe_gunzip(file).map_err(io)?;
    let mut regions = Vec::new();
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(io)?;
        if let Some(region) = parse_line(&line, index + 1, path)? {
            regions.push(region);
        }
    }
    if regions.is_empty() {
        return Err(GenomeError::Format {
            path: path.to_path_buf(),
            message: "no regions (a BED line is: contig, start, end[, name])".into(),
        });
    }
    Ok(regions)
}

fn parse_line(raw: &[u8], line: usize, path: &Path) -> Result<Option<BedRegion>> {
    let bad = |message: String| GenomeError::Line {
        path: PathBuf::from(path),
        line,
        message,
    };
    let text = std::str::from_utf8(raw)
        .map_err(|_| bad("not text (UTF-8)".into()))?
        .trim_end_matches('\r');
    if text.trim().is_empty()
        || text.starts_with('#')
        || text.starts_with("track")
        || text.starts_with("browser")
    {
        return Ok(None);
    }
    let fields: Vec<&str> = if text.contains('\t') {
        text.split('\t').collect()
    } else {
        text.split_whitespace().collect()
    };
    if fields.len() < 3 {
        return Err(bad(format!(
            "{} column(s); a BED line has at least contig, start and end",
            fields.len()
        )));
    }
    let coordinate = |field: &str, what: &str| {
        field.trim().parse::<u64>().map_err(|_| {
            bad(format!(
                "{what} {field:?} is not a non-negative whole number"
            ))
        })
    };
    let (start, end) = (
        coordinate(fields[1], "start")?,
        coordinate(fields[2], "end")?,
    );
    if start >= end {
        return Err(bad(format!(
            "start {start} is not before end {end} (BED is 0-based, end exclusive)"
        )));
    }
    let contig = fields[0].trim();
    if contig.is_empty() {
        return Err(bad("no contig name".into()));
    }
    let name = fields
        .get(3)
        .map(|n| n.trim())
        .filter(|n| !n.is_empty() && *n != ".")
        .map(str::to_string);
    Ok(Some(BedRegion {
        contig: contig.to_string(),
        start,
        end,
        name,
        line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<BedRegion>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.bed");
        std::fs::write(&path, text).unwrap();
        read_bed(&path)
    }

    #[test]
    fn regions_names_and_header_lines() {
        let regions = read(
            "track name=x\n#comment\nbrowser position chr1\nchr20\t10\t20\tpromoter\t0\t+\n\
             20 5 9\r\n\nchr20\t0\t1\t.\n",
        )
        .unwrap();
        assert_eq!(regions.len(), 3);
        assert_eq!(
            regions[0],
            BedRegion {
                contig: "chr20".into(),
                start: 10,
                end: 20,
                name: Some("promoter".into()),
                line: 4
            }
        );
        assert_eq!(
            (regions[1].start, regions[1].end, regions[1].line),
            (5, 9, 5)
        );
        assert_eq!(regions[1].label(), "20:6-9");
        assert_eq!(regions[2].name, None);
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, needle) in [
            ("chr1\t5\n", "line 1: 2 column(s)"),
            ("chr1\t1\t2\nchr1\t-1\t5\n", "line 2: start \"-1\""),
            ("chr1\t9\t9\n", "start 9 is not before end 9"),
            (
                "chr1\t1\t99999999999999999999999\n",
                "end \"99999999999999999999999\"",
            ),
            ("#only a header\n", "no regions"),
        ] {
            let err = read(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
