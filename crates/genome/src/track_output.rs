//! The files a scan writes: a bedGraph of per-nucleotide values and a BED of totals per
//! window, each written into a work file that is made durable at every checkpoint
//! (flushed and synced; a gzip output ends a gzip member there, so the file up to a
//! checkpoint is complete gzip). A resumed scan cuts each work file back to its last
//! checkpoint and appends.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

/// Where a work file's bytes go.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

/// A work file that grows between checkpoints.
pub struct CheckpointedFile {
    sink: Option<Sink>,
    gzip: bool,
}

impl CheckpointedFile {
    /// Opens `path` for writing from byte `resume_at` on (everything after it, written
    /// since the last checkpoint, is cut off), gzip-compressed or not.
    pub fn open(path: &Path, resume_at: u64, gzip: bool) -> std::io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        let length = file.metadata()?.len();
        if length < resume_at {
            return Err(std::io::Error::other(format!(
                "{} has {length} bytes, fewer than the {resume_at} its last checkpoint recorded",
                path.display()
            )));
        }
        file.set_len(resume_at)?;
        file.seek(SeekFrom::Start(resume_at))?;
        let mut opened = Self { sink: None, gzip };
        opened.reopen(BufWriter::with_capacity(1 << 20, file));
        Ok(opened)
    }

    fn reopen(&mut self, buffered: BufWriter<File>) {
        self.sink = Some(if self.gzip {
            Sink::Gzip(Box::new(GzEncoder::new(buffered, Compression::default())))
        } else {
            Sink::Plain(buffered)
        });
    }

    /// Where lines go.
    pub fn writer(&mut self) -> std::io::Result<&mut dyn Write> {
        match &mut self.sink {
            Some(Sink::Plain(plain)) => Ok(plain),
            Some(Sink::Gzip(gzip)) => Ok(gzip.as_mut()),
            None => Err(std::io::Error::other("closed by a failed checkpoint")),
        }
    }

    /// Makes everything written so far durable; returns the file's length.
    pub fn checkpoint(&mut self) -> std::io::Result<u64> {
        let mut buffered = match self.sink.take() {
            Some(Sink::Plain(plain)) => plain,
            Some(Sink::Gzip(gzip)) => gzip.finish()?,
            None => return Err(std::io::Error::other("closed by a failed checkpoint")),
        };
        buffered.flush()?;
        buffered.get_ref().sync_data()?;
        let length = buffered.get_ref().metadata()?.len();
        self.reopen(buffered);
        Ok(length)
    }
}

/// Writes the bedGraph lines of one window's kept values (`values[i]` for the
/// nucleotide at `first + i` of `contig`), 4 decimals; neighbours whose values print
/// the same share a line, and NaN (unscored) leaves a gap.
pub fn write_bedgraph_lines(
    out: &mut dyn Write,
    contig: &str,
    first: u64,
    values: &[f64],
) -> std::io::Result<()> {
    let mut run: Option<(u64, String)> = None;
    let mut end = first;
    for (i, value) in values.iter().enumerate() {
        let position = first + i as u64;
        let text = (!value.is_nan()).then(|| format!("{value:.4}"));
        let continues = matches!((&run, &text), (Some((_, shown)), Some(t)) if shown == t);
        if !continues {
            if let Some((start, shown)) = run.take() {
                writeln!(out, "{contig}\t{start}\t{end}\t{shown}")?;
            }
            run = text.map(|t| (position, t));
        }
        end = position + 1;
    }
    if let Some((start, shown)) = run {
        writeln!(out, "{contig}\t{start}\t{end}\t{shown}")?;
    }
    Ok(())
}

/// The header line of the per-window totals (BED3 and three columns).
pub const WINDOW_TOTALS_HEADER: &str =
    "#chrom\tstart\tend\tlog_likelihood\tnucleotides\tperplexity";

/// Writes one line of per-window totals: the window's kept nucleotides
/// `start..end` of `contig`, the sum of their values, how many were scored, and the
/// perplexity per nucleotide `exp(-sum / scored)`.
pub fn write_window_total(
    out: &mut dyn Write,
    contig: &str,
    start: u64,
    values: &[f64],
) -> std::io::Result<()> {
    let scored: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let sum: f64 = scored.iter().sum();
    let perplexity = if scored.is_empty() {
        f64::NAN
    } else {
        (-sum / scored.len() as f64).exp()
    };
    writeln!(
        out,
        "{contig}\t{start}\t{}\t{sum:.4}\t{}\t{perplexity:.4}",
        start + values.len() as u64,
        scored.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_neighbours_share_a_line_and_nan_is_a_gap() {
        let mut out = Vec::new();
        let values = [-1.0, -1.00001, -2.0, f64::NAN, -2.0, -0.5];
        write_bedgraph_lines(&mut out, "chr20", 100, &values).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "chr20\t100\t102\t-1.0000\nchr20\t102\t103\t-2.0000\n\
             chr20\t104\t105\t-2.0000\nchr20\t105\t106\t-0.5000\n"
        );
        let mut out = Vec::new();
        write_window_total(&mut out, "chr20", 100, &values).unwrap();
        let expected = format!(
            "chr20\t100\t106\t-6.5000\t5\t{:.4}\n",
            (6.50001f64 / 5.0).exp()
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn a_resumed_file_loses_what_came_after_its_checkpoint_and_gzip_stays_whole() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        for gzip in [false, true] {
            let path = dir.path().join(format!("t{gzip}"));
            let mut file = CheckpointedFile::open(&path, 0, gzip).unwrap();
            file.writer().unwrap().write_all(b"kept 1\n").unwrap();
            let first = file.checkpoint().unwrap();
            file.writer().unwrap().write_all(b"kept 2\n").unwrap();
            let second = file.checkpoint().unwrap();
            file.writer().unwrap().write_all(b"lost\n").unwrap();
            file.checkpoint().unwrap();
            drop(file);
            let mut file = CheckpointedFile::open(&path, second, gzip).unwrap();
            file.writer().unwrap().write_all(b"after\n").unwrap();
            file.checkpoint().unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let text = if gzip {
                let mut text = String::new();
                flate2::read::MultiGzDecoder::new(&bytes[..])
                    .read_to_string(&mut text)
                    .unwrap();
                text
            } else {
                String::from_utf8(bytes).unwrap()
            };
            assert_eq!(text, "kept 1\nkept 2\nafter\n", "gzip {gzip}");
            assert!(first < second);
            assert!(CheckpointedFile::open(&path, 1 << 30, gzip).is_err());
        }
    }
}
