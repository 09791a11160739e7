//! Input and output files of the command line: `.npy`, `.npz` and `.csv`.
//!
//! # Inputs ([`load_value`])
//!
//! A value on the command line is one of
//!
//! - `path.npy`: a NumPy array file of dtype `bool` (`|b1`), `int32` (`<i4`/`>i4`),
//!   `int64` (`<i8`/`>i8`), `float32` (`<f4`/`>f4`) or `float64` (`<f8`/`>f8`), in C or
//!   Fortran order, of any shape (0-d and empty included), format version 1, 2 or 3;
//! - `path.npz:member`: one member of a NumPy `.npz` archive (stored or deflated), or
//!   `path.npz` alone when the archive holds exactly one array;
//! - a number: `2.5`, `1e-3`, `nan`, `inf`, `-inf` give a 0-d `float64`, `-3` a 0-d
//!   `int64`, `true`/`false` (or `True`/`False`) a 0-d `bool`.
//!
//! A spec that ends in `.npy`/`.npz` (or contains `.npz:`) is always a file; otherwise a
//! spec that parses as a number is a number (so a file named `2.5` must be written `./2.5`
//! — which is then read if it starts with the `.npy` magic or is a zip archive).
//!
//! The `.npy` header (magic, version, `descr`, `fortran_order`, `shape`) is parsed here,
//! so an unsupported dtype (`<u2`, `<c16`, `|O`, structured, …) is reported by name with
//! a conversion hint; the data is then read with `ndarray-npy`. For `.npz` members,
//! whose raw bytes `ndarray-npy` does not expose, the descriptor comes from its
//! "wrong descriptor" error.
//!
//! # Outputs ([`save`], [`save_many`])
//!
//! The format follows the extension (case-insensitive):
//!
//! - `.npy`: the array as NumPy writes it (a Fortran-ordered array stays Fortran-ordered);
//! - `.npz`: an uncompressed archive (like `np.savez`) with one member `result`
//!   ([`save`]) or the named members ([`save_many`]);
//! - `.csv`: text that `np.loadtxt(path, delimiter=',', dtype=...)` reads back exactly:
//!   a 0-d array is one value, a 1-D array one value per line, a 2-D array one
//!   comma-separated row per line (no header). Floats are written as the shortest
//!   decimal that round-trips (`0.1`, `1e-7`, `nan`, `inf`, `-inf`), so they read back
//!   bit for bit with `dtype=np.float64` (`float32` data: `dtype=np.float32`). Integers are
//!   written in decimal; read `int64` data with `dtype=np.int64` (the default float
//!   dtype loses integers above 2**53). Booleans are written as `1`/`0`, because
//!   `np.loadtxt` does not parse `True`/`False` for any dtype; read them with
//!   `dtype=bool`. Arrays with more than two dimensions are refused.
//!
//! # Cancelling
//!
//! [`load_value_with_cancel`] and [`save_many_with_cancel`] check a [`CancelToken`] (the
//! command line's Ctrl-C) before the first MiB they read or write and after every MiB,
//! and stop with an error of kind [`ErrorKind::Cancelled`]: a multi-GB `.npy` load or
//! `.csv` write stops within a MiB. A cancelled output leaves its target as it was.
//!
//! Every output is atomic: the bytes go to a temporary file in the target's directory,
//! which is flushed, synced and then renamed over the target. If anything fails before
//! the rename, the temporary file is removed and the target is untouched (an existing
//! file keeps its old content, a missing one stays missing). A new file gets the usual
//! permissions (`0o666` less the umask); a replaced file keeps its permissions. A
//! symbolic link at the target is replaced by the new file, not followed.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, OwnedRepr};
use ndarray_npy::{
    NpzReader, ReadNpyError, ReadNpyExt, ReadNpzError, ReadableElement, WriteNpyExt,
};

use crate::error::{Error, ErrorKind, Result};
use crate::{Array, CancelToken, DType};

/// How many bytes a load or save reads or writes between checks of its cancel token.
pub const CANCEL_CHUNK: usize = 1 << 20;

/// A reader or writer that checks a cancel token before its first [`CANCEL_CHUNK`]
/// bytes and after every one, handing at most that many to one `read` or `write`
/// (a whole array's `read_exact` or `write_all` is then many calls).
struct Watched<'t, T> {
    inner: T,
    cancel: &'t CancelToken,
    /// Bytes since the last check.
    since_check: usize,
    /// A write was refused as cancelled: later writes are discarded, so
    /// that a writer's own clean-up on drop (the zip writer finishing its
    /// archive, which prints any error) succeeds quietly; the caller has
    /// the cancellation and removes what was written.
    refused: bool,
}

impl<'t, T> Watched<'t, T> {
    fn new(inner: T, cancel: &'t CancelToken) -> Self {
        Watched {
            inner,
            cancel,
            since_check: CANCEL_CHUNK,
            refused: false,
        }
    }

    /// The most bytes the next call may move, or the cancellation.
    fn budget(&mut self, want: usize) -> io::Result<usize> {
        if self.since_check >= CANCEL_CHUNK {
            if self.cancel.is_cancelled() {
                return Err(io::Error::other("cancelled"));
            }
            self.since_check = 0;
        }
        Ok(want.min(CANCEL_CHUNK - self.since_check))
    }
}

impl<T: Read> Read for Watched<'_, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.budget(buf.len())?;
        let got = self.inner.read(&mut buf[..n])?;
        self.since_check += got;
        Ok(got)
    }
}

impl<T: Write> Write for Watched<'_, T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.refused {
            return Ok(buf.len());
        }
        let n = self
            .budget(buf.len())
            .inspect_err(|_| self.refused = true)?;
        let put = self.inner.write(&buf[..n])?;
        self.since_check += put;
        Ok(put)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Seek> Seek for Watched<'_, T> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The error of a load or save stopped by its token.
fn cancelled(what: &str) -> Error {
    Error::new(ErrorKind::Cancelled, format!("{what} cancelled"))
}

/// The extensions [`save`] understands, for help texts.
const SAVE_FORMATS: &str = "use a file name ending in .npy, .npz or .csv";

/// Reads a command-line value: a `.npy` file, a `path.npz:member`, or a number.
///
/// See the [module documentation](self) for the accepted forms. Missing or unreadable
/// files give an [`ErrorKind::Io`] error naming the path; files that are not valid
/// NumPy files, unsupported dtypes and out-of-range integers give [`ErrorKind::Value`];
/// a missing `.npz` member gives [`ErrorKind::Name`].
pub fn load_value(spec: &str) -> Result<Array> {
    load_value_with_cancel(spec, &CancelToken::new())
}

/// [`load_value`], checking `cancel` every MiB read: once it is cancelled the load
/// stops with an error of kind [`ErrorKind::Cancelled`].
pub fn load_value_with_cancel(spec: &str, cancel: &CancelToken) -> Result<Array> {
    let loaded = match load_value_inner(spec, cancel) {
        // Whatever error the readers made of it.
        Err(_) if cancel.is_cancelled() => return Err(cancelled(&format!("loading '{spec}'"))),
        other => other?,
    };
    Ok(crate::array::each!(Array, loaded, x => crate::array::Element::into_array(on_huge_pages(x))))
}

/// A large array moved into memory advised for transparent huge pages (what
/// NumPy does above 4 MiB): streaming it then costs far fewer TLB misses
/// than from the 4 KiB pages the file reader filled. Layout is kept.
fn on_huge_pages<T: crate::array::Element>(a: ArrayD<T>) -> ArrayD<T> {
    use ndarray::ShapeBuilder;
    if a.len() * std::mem::size_of::<T>() < (4 << 20) {
        return a;
    }
    let fortran = !a.is_standard_layout() && a.t().is_standard_layout();
    if !fortran && !a.is_standard_layout() {
        return a;
    }
    let Some(src) = a.as_slice_memory_order() else {
        return a;
    };
    let Some(mut v) = crate::alloc::zeroed_vec::<T>(src.len()) else {
        return a;
    };
    v.copy_from_slice(src);
    let shape = a.raw_dim();
    let moved = if fortran {
        ArrayD::from_shape_vec(shape.f(), v)
    } else {
        ArrayD::from_shape_vec(shape, v)
    };
    moved.unwrap_or(a)
}

fn load_value_inner(spec: &str, cancel: &CancelToken) -> Result<Array> {
    let lower = spec.to_ascii_lowercase();
    if let Some(pos) = lower.rfind(".npz:") {
        let (path, member) = (&spec[..pos + 4], &spec[pos + 5..]);
        if member.is_empty() {
            return Err(Error::new(
                ErrorKind::Value,
                format!("missing member name after '{spec}'"),
            )
            .with_help(format!(
                "write {path}:NAME, or {path} alone if it holds one array"
            )));
        }
        return load_npz(Path::new(path), Some(member), cancel);
    }
    if lower.ends_with(".npy") {
        return load_npy(Path::new(spec), cancel);
    }
    if lower.ends_with(".npz") {
        return load_npz(Path::new(spec), None, cancel);
    }
    if let Some(value) = parse_number(spec)? {
        return Ok(value);
    }
    let path = Path::new(spec);
    let mut magic = [0u8; 6];
    let n = match File::open(path) {
        Ok(mut f) => {
            read_prefix(&mut f, &mut magic).map_err(|e| io_error("cannot read", path, &e))?
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::new(
                ErrorKind::Io,
                format!("'{spec}' is neither a file nor a number"),
            )
            .with_help(
                "a value is a .npy file, FILE.npz:MEMBER, or a number such as 2.5, -3, 1e-3, nan, inf, true",
            ));
        }
        Err(e) => return Err(io_error("cannot open", path, &e)),
    };
    match &magic[..n] {
        [0x93, b'N', b'U', b'M', b'P', b'Y'] => load_npy(path, cancel),
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => load_npz(path, None, cancel),
        _ => Err(Error::new(
            ErrorKind::Value,
            format!("'{spec}' is not a .npy or .npz file"),
        )
        .with_help("save arrays with np.save (.npy) or np.savez (.npz)")),
    }
}

/// Writes `value` to `path` in the format given by the extension (`.npy`, `.npz` with one
/// member `result`, or `.csv`), atomically: on any error the target is left as it was.
pub fn save(path: &Path, value: &Array) -> Result<()> {
    save_many(path, &[("result", value)])
}

/// Writes several named arrays to a `.npz` file (one member per entry, in order),
/// atomically. With exactly one entry any extension [`save`] accepts works (the name is
/// then used only for `.npz`).
pub fn save_many(path: &Path, values: &[(&str, &Array)]) -> Result<()> {
    save_many_with_cancel(path, values, &CancelToken::new())
}

/// [`save_many`], checking `cancel` every MiB written: once it is cancelled the save
/// stops with an error of kind [`ErrorKind::Cancelled`], the temporary file is removed
/// and the target is left as it was.
pub fn save_many_with_cancel(
    path: &Path,
    values: &[(&str, &Array)],
    cancel: &CancelToken,
) -> Result<()> {
    let format = output_format(path)?;
    if format != Format::Npz && values.len() != 1 {
        return Err(Error::new(
            ErrorKind::Value,
            format!(
                "cannot write {} arrays to '{}': only .npz holds several",
                values.len(),
                path.display()
            ),
        )
        .with_help("use a file name ending in .npz"));
    }
    if format == Format::Csv {
        let ndim = values[0].1.shape().len();
        if ndim > 2 {
            return Err(Error::new(
                ErrorKind::Value,
                format!(
                    "cannot write a {ndim}-D array to '{}': CSV holds at most 2 dimensions",
                    path.display()
                ),
            )
            .with_help("write .npy or .npz instead, or reduce the result to 2-D"));
        }
    }
    let mut names = std::collections::HashSet::new();
    for (name, _) in values {
        if name.is_empty() || name.contains('/') || !names.insert(*name) {
            return Err(Error::new(
                ErrorKind::Value,
                format!("invalid or repeated .npz member name '{name}'"),
            ));
        }
    }
    let written = write_atomically(path, |w| {
        let w = &mut Watched::new(w, cancel);
        match format {
            Format::Npy => write_npy(w, values[0].1),
            Format::Npz => write_npz(w, values),
            Format::Csv => write_csv(w, values[0].1),
        }
    });
    match written {
        Err(_) if cancel.is_cancelled() => Err(cancelled(&format!("writing '{}'", path.display()))),
        other => other,
    }
}

// ---------------------------------------------------------------------------------
// Reading .npy

/// What the header of a `.npy` file says.
#[derive(Debug, Clone, PartialEq)]
struct NpyHeader {
    /// The `descr` entry: `'<f8'` as `Str("<f8")`, a structured dtype as a list.
    descr: PyLit,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Reads as many bytes as fit in `buf` (fewer at the end of the file).
fn read_prefix(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> Error {
    let err = Error::new(ErrorKind::Io, format!("{what} '{}': {e}", path.display()));
    match e.kind() {
        io::ErrorKind::NotFound => err.with_help("check the path"),
        io::ErrorKind::PermissionDenied => err.with_help("check the file's permissions"),
        _ => err,
    }
}

fn bad_file(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Value,
        format!("'{}' is not a valid .npy file: {why}", path.display()),
    )
}

/// Parses the header at the start of `r`: magic, version, length, dict.
fn read_npy_header(r: &mut impl Read, path: &Path) -> Result<NpyHeader> {
    let mut pre = [0u8; 8];
    let n = read_prefix(r, &mut pre).map_err(|e| io_error("cannot read", path, &e))?;
    if n < 8 || &pre[..6] != b"\x93NUMPY" {
        return Err(bad_file(
            path,
            "it does not start with the NumPy magic string",
        ));
    }
    let (major, minor) = (pre[6], pre[7]);
    let len = match major {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|e| io_error("cannot read", path, &e))?;
            u16::from_le_bytes(b) as usize
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|e| io_error("cannot read", path, &e))?;
            u32::from_le_bytes(b) as usize
        }
        _ => {
            return Err(bad_file(
                path,
                format!("unknown format version {major}.{minor}"),
            ));
        }
    };
    if len > 1 << 24 {
        return Err(bad_file(path, "the header is too long"));
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => bad_file(path, "the header is truncated"),
        _ => io_error("cannot read", path, &e),
    })?;
    // Versions 1 and 2 are latin-1, version 3 is UTF-8; the keys and values we need
    // are ASCII either way.
    let text: String = if major == 3 {
        String::from_utf8(bytes).map_err(|_| bad_file(path, "the header is not UTF-8"))?
    } else {
        bytes.iter().map(|&b| b as char).collect()
    };
    let dict = PyParser::new(&text)
        .parse_all()
        .map_err(|why| bad_file(path, format!("cannot parse the header ({why})")))?;
    let PyLit::Dict(entries) = dict else {
        return Err(bad_file(path, "the header is not a dict"));
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| matches!(k, PyLit::Str(s) if s == key))
            .map(|(_, v)| v)
    };
    let descr = get("descr")
        .cloned()
        .ok_or_else(|| bad_file(path, "the header has no 'descr'"))?;
    let fortran_order = match get("fortran_order") {
        Some(PyLit::Bool(b)) => *b,
        _ => return Err(bad_file(path, "the header has no boolean 'fortran_order'")),
    };
    let shape = match get("shape") {
        Some(PyLit::Tuple(items)) => items
            .iter()
            .map(|v| match v {
                PyLit::Int(n) => usize::try_from(*n).ok(),
                _ => None,
            })
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| bad_file(path, "'shape' is not a tuple of sizes"))?,
        _ => return Err(bad_file(path, "the header has no tuple 'shape'")),
    };
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
    })
}

fn load_npy(path: &Path, cancel: &CancelToken) -> Result<Array> {
    let file = File::open(path).map_err(|e| io_error("cannot open", path, &e))?;
    let len = file
        .metadata()
        .map_err(|e| io_error("cannot read", path, &e))?
        .len();
    read_npy(Watched::new(BufReader::new(file), cancel), len, path)
}

/// An array from the bytes of a `.npy` file (what the fuzz target reads).
pub fn npy_from_bytes(bytes: &[u8]) -> Result<Array> {
    read_npy(
        io::Cursor::new(bytes),
        bytes.len() as u64,
        Path::new("<bytes>.npy"),
    )
}

/// An array from the bytes of an `.npz` archive: its only member, or `member`.
pub fn npz_from_bytes(bytes: &[u8], member: Option<&str>) -> Result<Array> {
    read_npz(
        || Ok(io::Cursor::new(bytes)),
        Path::new("<bytes>.npz"),
        member,
    )
}

/// The `.npy` data of `reader`, `len` bytes long, named `path` in errors.
fn read_npy<R: Read + Seek>(mut reader: R, len: u64, path: &Path) -> Result<Array> {
    let header = read_npy_header(&mut reader, path)?;
    let descr = match &header.descr {
        PyLit::Str(s) => s.clone(),
        other => other.to_string(),
    };
    let dtype = dtype_of_descr(&descr).ok_or_else(|| unsupported(&descr, path))?;
    // The data the header declares must be in the file before anything of
    // that size is allocated (a 200-byte file may declare 10^12 elements).
    let data_start = reader
        .stream_position()
        .map_err(|e| io_error("cannot read", path, &e))?;
    check_declared_size(&header, dtype, len.saturating_sub(data_start), path)?;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| io_error("cannot read", path, &e))?;
    let array = match dtype {
        DType::Bool => read_npy_as::<bool>(reader, path),
        DType::Int8 => read_npy_as::<i8>(reader, path),
        DType::Int16 => read_npy_as::<i16>(reader, path),
        DType::Int32 => read_npy_as::<i32>(reader, path),
        DType::Int64 => read_npy_as::<i64>(reader, path),
        DType::UInt8 => read_npy_as::<u8>(reader, path),
        DType::UInt16 => read_npy_as::<u16>(reader, path),
        DType::UInt32 => read_npy_as::<u32>(reader, path),
        DType::UInt64 => read_npy_as::<u64>(reader, path),
        DType::Float16 => read_npy_f16(reader, &header, &descr, path),
        DType::Float32 => read_npy_as::<f32>(reader, path),
        DType::Float64 => read_npy_as::<f64>(reader, path),
        DType::Complex64 => read_npy_as::<crate::types::c32>(reader, path),
        DType::Complex128 => read_npy_as::<crate::types::c64>(reader, path),
    }?;
    if array.shape() != &header.shape[..] {
        return Err(Error::internal(format!(
            "'{}': header shape {:?} but read {:?}",
            path.display(),
            header.shape,
            array.shape()
        )));
    }
    debug_assert!(
        !header.fortran_order || array.shape().len() < 2 || array.view().is_fortran_contiguous()
    );
    Ok(array)
}

/// An error unless `available` bytes hold the data `header` declares for
/// `dtype` (checked before the reader allocates it).
fn check_declared_size(
    header: &NpyHeader,
    dtype: DType,
    available: u64,
    path: &Path,
) -> Result<()> {
    // NumPy's own limit (NPY_MAXDIMS); printing 100,001 axes took minutes.
    const MAX_DIMS: usize = 64;
    if header.shape.len() > MAX_DIMS {
        return Err(bad_file(
            path,
            format!(
                "its header declares {} dimensions; NumPy arrays have at most {MAX_DIMS}",
                header.shape.len()
            ),
        ));
    }
    let need = header
        .shape
        .iter()
        .try_fold(dtype.size() as u64, |n, &d| n.checked_mul(d as u64));
    match need {
        Some(need) if need <= available => Ok(()),
        _ => Err(bad_file(
            path,
            format!(
                "its header declares shape {} of {dtype} ({} bytes) but the file holds {available} bytes of data",
                crate::ir::shape::format_shape(&header.shape),
                need.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string()),
            ),
        )
        .with_help("the file is truncated or its header is corrupt")),
    }
}

fn read_npy_as<T>(reader: impl Read, path: &Path) -> Result<Array>
where
    T: ReadableElement,
    ArrayD<T>: Into<Array>,
{
    ArrayD::<T>::read_npy(reader)
        .map(Into::into)
        .map_err(|e| npy_error(e, path))
}

/// A `float16` `.npy` (ndarray-npy has no `f16`): the header again, then
/// the data, in either byte order (`<f2`, `>f2`), C or Fortran order.
fn read_npy_f16(
    mut reader: impl Read,
    header: &NpyHeader,
    descr: &str,
    path: &Path,
) -> Result<Array> {
    read_npy_header(&mut reader, path)?;
    read_f16_data(reader, header, descr, path)
}

/// The `float16` data after a `.npy` header (see [`read_npy_f16`]).
fn read_f16_data(
    mut reader: impl Read,
    header: &NpyHeader,
    descr: &str,
    path: &Path,
) -> Result<Array> {
    use ndarray::ShapeBuilder;
    let n: usize = header.shape.iter().product();
    let mut bytes = vec![0u8; n * 2];
    reader
        .read_exact(&mut bytes)
        .map_err(|_| bad_file(path, "the data is truncated"))?;
    let big = descr.starts_with('>');
    let values: Vec<crate::f16> = bytes
        .chunks_exact(2)
        .map(|b| {
            let bits = if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            };
            crate::f16::from_bits(bits)
        })
        .collect();
    let shape = IxDyn(&header.shape);
    let array = if header.fortran_order {
        ArrayD::from_shape_vec(shape.f(), values)
    } else {
        ArrayD::from_shape_vec(shape, values)
    };
    array
        .map(Array::Float16)
        .map_err(|e| bad_file(path, format!("shape: {e}")))
}

/// A `float16` array as a version 1.0 `.npy` (`<f2`, C order).
fn write_npy_f16(w: &mut impl Write, a: &ArrayD<crate::f16>) -> Result<()> {
    let shape = match a.shape() {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    // Fortran order is kept (as ndarray-npy does for the other dtypes): the
    // elements then go in memory order, the reversed axes' C order.
    let fortran = a.ndim() > 1 && !a.is_standard_layout() && a.t().is_standard_layout();
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '<f2', 'fortran_order': {order}, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + dict + '\n' is a multiple of 64.
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len() + 2 * a.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    let values: Box<dyn Iterator<Item = &crate::f16>> = if fortran {
        Box::new(a.t().into_iter())
    } else {
        Box::new(a.iter())
    };
    for v in values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    w.write_all(&out)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write .npy data: {e}")))
}

fn npy_error(e: ReadNpyError, path: &Path) -> Error {
    match e {
        ReadNpyError::Io(e) => io_error("cannot read", path, &e),
        ReadNpyError::MissingData => bad_file(path, "the data is truncated"),
        ReadNpyError::WrongDescriptor(d) => unsupported(&descr_text(&d.to_string()), path),
        other => bad_file(path, other),
    }
}

/// `'<f8'` (a Python literal as `ndarray-npy` displays it) → `<f8`.
fn descr_text(lit: &str) -> String {
    let t = lit.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    t.to_string()
}

/// The dtype of a supported descriptor (any byte order NumPy writes).
fn dtype_of_descr(descr: &str) -> Option<DType> {
    match descr {
        "|b1" => Some(DType::Bool),
        "|i1" => Some(DType::Int8),
        "<i2" | ">i2" => Some(DType::Int16),
        "<i4" | ">i4" => Some(DType::Int32),
        "<i8" | ">i8" => Some(DType::Int64),
        "|u1" => Some(DType::UInt8),
        "<u2" | ">u2" => Some(DType::UInt16),
        "<u4" | ">u4" => Some(DType::UInt32),
        "<u8" | ">u8" => Some(DType::UInt64),
        "<f2" | ">f2" => Some(DType::Float16),
        "<f4" | ">f4" => Some(DType::Float32),
        "<f8" | ">f8" => Some(DType::Float64),
        "<c8" | ">c8" => Some(DType::Complex64),
        "<c16" | ">c16" => Some(DType::Complex128),
        _ => None,
    }
}

/// NumPy's name for a descriptor, for messages (`<u2` → `uint16`).
fn numpy_name(descr: &str) -> Option<String> {
    let body = descr.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = body.split_at(
        body.find(|c: char| c.is_ascii_digit())
            .unwrap_or(body.len()),
    );
    let size: Option<u32> = size.parse().ok();
    Some(match (kind, size) {
        ("b", Some(1)) => "bool".into(),
        ("i", Some(n)) => format!("int{}", 8 * n),
        ("u", Some(n)) => format!("uint{}", 8 * n),
        ("f", Some(n)) => format!("float{}", 8 * n),
        ("c", Some(n)) => format!("complex{}", 8 * n),
        ("O", _) => "object".into(),
        ("U", _) => "str".into(),
        ("S", _) => "bytes".into(),
        ("V", _) => "void".into(),
        ("M", _) => "datetime64".into(),
        ("m", _) => "timedelta64".into(),
        _ => return None,
    })
}

fn unsupported(descr: &str, path: &Path) -> Error {
    let name = match numpy_name(descr) {
        Some(n) => format!("{n} ('{descr}')"),
        None if descr.starts_with('[') => format!("structured ({descr})"),
        None => format!("'{descr}'"),
    };
    let target = match descr
        .trim_start_matches(['<', '>', '|', '='])
        .chars()
        .next()
    {
        Some('i' | 'u' | 'b') => "int64",
        _ => "float64",
    };
    let help = if descr.contains('c') && !descr.starts_with('[') {
        "jitexpr reads bool, int8 to int64, uint8 to uint64, float16 to float64, complex64 and complex128; convert with arr.astype('complex128') before saving"
            .to_string()
    } else {
        format!(
            "jitexpr reads bool, int8 to int64, uint8 to uint64, float16 to float64, complex64 and complex128; convert with arr.astype('{target}') before saving"
        )
    };
    Error::new(
        ErrorKind::Value,
        format!("unsupported dtype {name} in '{}'", path.display()),
    )
    .with_help(help)
}

// ---------------------------------------------------------------------------------
// Reading .npz

fn npz_error(e: ReadNpzError, path: &Path, member: &str) -> Error {
    match e {
        ReadNpzError::Npy(ReadNpyError::WrongDescriptor(d)) => {
            unsupported(&descr_text(&d.to_string()), &member_path(path, member))
        }
        ReadNpzError::Npy(e) => npy_error(e, &member_path(path, member)),
        ReadNpzError::Zip(e) => Error::new(
            ErrorKind::Value,
            format!("'{}' is not a valid .npz file: {e}", path.display()),
        ),
    }
}

fn member_path(path: &Path, member: &str) -> PathBuf {
    PathBuf::from(format!("{}:{member}", path.display()))
}

/// An error unless member `name` of the archive at `path` can hold the data
/// its header declares: its uncompressed size (which deflate bounds at
/// about 1032 times the compressed size) must cover it. Checked before the
/// reader allocates an array of the declared shape.
fn check_npz_member<R: Read + Seek>(
    open: impl Fn() -> io::Result<R>,
    path: &Path,
    name: &str,
) -> Result<()> {
    /// Deflate's largest expansion (258 bytes per 2-bit code), with slack.
    const MAX_RATIO: u64 = 1100;
    let member = member_path(path, name);
    let zip_error = |e: zip::result::ZipError| {
        Error::new(
            ErrorKind::Value,
            format!("'{}' is not a valid .npz file: {e}", path.display()),
        )
    };
    let file = open().map_err(|e| io_error("cannot open", path, &e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    let with_suffix = format!("{name}.npy");
    let entry_name = if archive.index_for_name(&with_suffix).is_some() {
        with_suffix.as_str()
    } else {
        name
    };
    let mut entry = archive.by_name(entry_name).map_err(zip_error)?;
    let size = entry.size().min(
        entry
            .compressed_size()
            .saturating_mul(MAX_RATIO)
            .saturating_add(1024),
    );
    let mut counted = CountingReader {
        inner: &mut entry,
        read: 0,
    };
    let header = read_npy_header(&mut counted, &member)?;
    let header_len = counted.read;
    let descr = match &header.descr {
        PyLit::Str(s) => s.clone(),
        other => other.to_string(),
    };
    match dtype_of_descr(&descr) {
        Some(dtype) => {
            check_declared_size(&header, dtype, size.saturating_sub(header_len), &member)
        }
        None => Ok(()), // the reader names the descriptor
    }
}

/// The float16 member `name` of the archive `open` reads (checked by
/// [`check_npz_member`] already), by [`read_f16_data`].
fn read_npz_f16<R: Read + Seek>(
    open: impl Fn() -> io::Result<R>,
    path: &Path,
    name: &str,
) -> Result<Array> {
    let member = member_path(path, name);
    let zip_error = |e: zip::result::ZipError| {
        Error::new(
            ErrorKind::Value,
            format!("'{}' is not a valid .npz file: {e}", path.display()),
        )
    };
    let file = open().map_err(|e| io_error("cannot open", path, &e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    let with_suffix = format!("{name}.npy");
    let entry_name = if archive.index_for_name(&with_suffix).is_some() {
        with_suffix.as_str()
    } else {
        name
    };
    let mut entry = archive.by_name(entry_name).map_err(zip_error)?;
    let header = read_npy_header(&mut entry, &member)?;
    let descr = match &header.descr {
        PyLit::Str(s) => s.clone(),
        other => other.to_string(),
    };
    read_f16_data(entry, &header, &descr, &member)
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

fn load_npz(path: &Path, member: Option<&str>, cancel: &CancelToken) -> Result<Array> {
    read_npz(
        || File::open(path).map(|f| Watched::new(BufReader::new(f), cancel)),
        path,
        member,
    )
}

/// The member `member` (or the only one) of the archive `open` reads,
/// named `path` in errors.
fn read_npz<R: Read + Seek>(
    open: impl Fn() -> io::Result<R>,
    path: &Path,
    member: Option<&str>,
) -> Result<Array> {
    let file = open().map_err(|e| io_error("cannot open", path, &e))?;
    let mut npz = NpzReader::new(file).map_err(|e| npz_error(e, path, ""))?;
    let names = npz.names().map_err(|e| npz_error(e, path, ""))?;
    let list = || names.join(", ");
    let name = match member {
        Some(m) => {
            if !names.iter().any(|n| n == m) {
                return Err(Error::new(
                    ErrorKind::Name,
                    format!("'{}' has no member '{m}'", path.display()),
                )
                .with_help(if names.is_empty() {
                    "the archive is empty".to_string()
                } else {
                    format!("its members are: {}", list())
                }));
            }
            m.to_string()
        }
        None => match names.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(Error::new(
                    ErrorKind::Value,
                    format!("'{}' holds no arrays", path.display()),
                ));
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Value,
                    format!(
                        "'{}' holds {} arrays; say which one",
                        path.display(),
                        names.len()
                    ),
                )
                .with_help(format!(
                    "write {}:NAME with NAME one of: {}",
                    path.display(),
                    list()
                )));
            }
        },
    };
    check_npz_member(&open, path, &name)?;
    // The first read as float64 either succeeds or names the descriptor (the check comes
    // before any data is read).
    match npz.by_name::<OwnedRepr<f64>, IxDyn>(&name) {
        Ok(a) => Ok(Array::Float64(a)),
        Err(ReadNpzError::Npy(ReadNpyError::WrongDescriptor(d))) => {
            let descr = descr_text(&d.to_string());
            let err = |e| npz_error(e, path, &name);
            macro_rules! member {
                ($t:ty) => {
                    npz.by_name::<OwnedRepr<$t>, IxDyn>(&name)
                        .map(crate::array::Element::into_array)
                        .map_err(err)
                };
            }
            match dtype_of_descr(&descr) {
                Some(DType::Bool) => member!(bool),
                Some(DType::Int8) => member!(i8),
                Some(DType::Int16) => member!(i16),
                Some(DType::Int32) => member!(i32),
                Some(DType::Int64) => member!(i64),
                Some(DType::UInt8) => member!(u8),
                Some(DType::UInt16) => member!(u16),
                Some(DType::UInt32) => member!(u32),
                Some(DType::UInt64) => member!(u64),
                Some(DType::Float32) => member!(f32),
                Some(DType::Complex64) => member!(crate::types::c32),
                Some(DType::Complex128) => member!(crate::types::c64),
                // ndarray-npy has no float16: the member's own reader.
                Some(DType::Float16) => read_npz_f16(open, path, &name),
                Some(DType::Float64) | None => Err(unsupported(&descr, &member_path(path, &name))),
            }
        }
        Err(e) => Err(npz_error(e, path, &name)),
    }
}

// ---------------------------------------------------------------------------------
// Numbers

/// A number or boolean literal as a 0-d array; `None` if `s` is not one.
fn parse_number(s: &str) -> Result<Option<Array>> {
    let t = s.trim();
    match t {
        "true" | "True" => return Ok(Some(Array::Bool(ndarray::arr0(true).into_dyn()))),
        "false" | "False" => return Ok(Some(Array::Bool(ndarray::arr0(false).into_dyn()))),
        _ => {}
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match t.parse::<i64>() {
            Ok(v) => Ok(Some(Array::Int64(ndarray::arr0(v).into_dyn()))),
            Err(_) => Err(Error::new(
                ErrorKind::Value,
                format!("integer {t} is out of range for int64"),
            )
            .with_help(format!("write it as a float, e.g. {t}.0"))),
        };
    }
    // Rust's float syntax: 2.5, .5, 5., 1e-3, 1E3, inf, -inf, infinity, nan (any case).
    if let Ok(v) = t.parse::<f64>() {
        return Ok(Some(Array::Float64(ndarray::arr0(v).into_dyn())));
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------
// Writing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Npz,
    Csv,
}

fn output_format(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("npy") => Ok(Format::Npy),
        Some("npz") => Ok(Format::Npz),
        Some("csv") => Ok(Format::Csv),
        _ => Err(Error::new(
            ErrorKind::Value,
            format!("unknown output format for '{}'", path.display()),
        )
        .with_help(SAVE_FORMATS)),
    }
}

/// Runs `write` on a buffered temporary file next to `path`, then flushes, syncs and
/// renames it onto `path`. The temporary file is deleted on any error.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    builder.prefix(".").suffix(".tmp");
    let prefix = format!(".{file_name}.");
    builder.prefix(&prefix);
    #[cfg(unix)]
    let existing = std::fs::metadata(path).ok().filter(|m| m.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like File::create: 0o666 less the umask (tempfile's default is 0o600).
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| {
        let err = Error::new(
            ErrorKind::Io,
            format!("cannot write '{}': {e}", path.display()),
        );
        if e.kind() == io::ErrorKind::NotFound {
            err.with_help(format!("the directory '{}' does not exist", dir.display()))
        } else {
            err
        }
    })?;
    let io_err = |e: io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot write '{}': {e}", path.display()),
        )
    };
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush().map_err(io_err)?;
    }
    #[cfg(unix)]
    if let Some(meta) = existing {
        // Best effort: keep the mode of the file being replaced.
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

fn write_npy(w: &mut impl Write, value: &Array) -> Result<()> {
    let r = match value {
        Array::Bool(a) => a.write_npy(w),
        Array::Int8(a) => a.write_npy(w),
        Array::Int16(a) => a.write_npy(w),
        Array::Int32(a) => a.write_npy(w),
        Array::Int64(a) => a.write_npy(w),
        Array::UInt8(a) => a.write_npy(w),
        Array::UInt16(a) => a.write_npy(w),
        Array::UInt32(a) => a.write_npy(w),
        Array::UInt64(a) => a.write_npy(w),
        // ndarray-npy has no float16.
        Array::Float16(a) => return write_npy_f16(w, a),
        Array::Float32(a) => a.write_npy(w),
        Array::Float64(a) => a.write_npy(w),
        Array::Complex64(a) => a.write_npy(w),
        Array::Complex128(a) => a.write_npy(w),
    };
    r.map_err(|e| Error::new(ErrorKind::Io, format!("cannot write .npy data: {e}")))
}

/// An `.npz` (uncompressed, as `np.savez`): each value a `NAME.npy` member,
/// written by [`write_npy`] (so float16 members too, which ndarray-npy's
/// `NpzWriter` cannot write).
fn write_npz(w: &mut (impl Write + Seek), values: &[(&str, &Array)]) -> Result<()> {
    use zip::write::SimpleFileOptions;
    let err = |e: zip::result::ZipError| {
        Error::new(ErrorKind::Io, format!("cannot write .npz data: {e}"))
    };
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(w);
    for (name, value) in values {
        zip.start_file(format!("{name}.npy"), options)
            .map_err(err)?;
        let mut member = io::BufWriter::new(&mut zip);
        write_npy(&mut member, value)?;
        member
            .flush()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write .npz data: {e}")))?;
    }
    zip.finish().map_err(err)?;
    Ok(())
}

/// One value as CSV text that `np.loadtxt` parses back to the same value.
trait CsvValue: Copy {
    fn write_csv(self, out: &mut String);
}

impl CsvValue for bool {
    fn write_csv(self, out: &mut String) {
        out.push(if self { '1' } else { '0' });
    }
}

macro_rules! csv_int {
    ($($t:ty),*) => {$(
        impl CsvValue for $t {
            fn write_csv(self, out: &mut String) {
                use std::fmt::Write as _;
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
csv_int!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Complex as NumPy's `savetxt` writes it, `(re+imj)`, each part as a float
/// is written here.
impl<T: CsvValue + Into<f64>> CsvValue for num_complex::Complex<T> {
    fn write_csv(self, out: &mut String) {
        out.push('(');
        self.re.write_csv(out);
        let im: f64 = self.im.into();
        if !im.is_sign_negative() || im.is_nan() {
            out.push('+');
        }
        self.im.write_csv(out);
        out.push_str("j)");
    }
}

macro_rules! csv_float {
    ($($t:ty),*) => {$(
        impl CsvValue for $t {
            fn write_csv(self, out: &mut String) {
                use std::fmt::Write as _;
                if self.is_nan() {
                    out.push_str("nan");
                } else if self.is_infinite() {
                    out.push_str(if self > 0.0 { "inf" } else { "-inf" });
                } else {
                    // Debug is the shortest round-trip decimal (`0.1`, `1e-7`, `1e16`).
                    let _ = write!(out, "{self:?}");
                }
            }
        }
    )*};
}
csv_float!(f32, f64);

impl CsvValue for crate::f16 {
    fn write_csv(self, out: &mut String) {
        use std::fmt::Write as _;
        if self.is_nan() {
            out.push_str("nan");
        } else if self.is_infinite() {
            out.push_str(if self.is_sign_positive() {
                "inf"
            } else {
                "-inf"
            });
        } else {
            // The shortest decimal that reads back as this float16.
            let x = self.to_f64();
            let text = (0..=5)
                .map(|p| format!("{x:.p$e}"))
                .find(|t| {
                    t.parse::<f64>()
                        .is_ok_and(|v| crate::types::f16_from_f64(v) == self)
                })
                .unwrap_or_else(|| format!("{x:e}"));
            let _ = write!(out, "{:?}", text.parse::<f64>().unwrap_or(x));
        }
    }
}

/// Writes `a` as CSV text to `w`, a piece of about 64 KiB at a time (so a huge
/// array is neither held as text whole nor written without cancel checks).
fn csv_text<T: CsvValue>(a: &ArrayViewD<'_, T>, w: &mut impl Write) -> io::Result<()> {
    const PIECE: usize = 64 << 10;
    let mut out = String::new();
    let put = |out: &mut String, w: &mut dyn Write| -> io::Result<()> {
        if out.len() >= PIECE {
            w.write_all(out.as_bytes())?;
            out.clear();
        }
        Ok(())
    };
    match a.ndim() {
        0 | 1 => {
            for &v in a.iter() {
                v.write_csv(&mut out);
                out.push('\n');
                put(&mut out, w)?;
            }
        }
        _ => {
            for row in a.axis_iter(Axis(0)) {
                for (j, &v) in row.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    v.write_csv(&mut out);
                    put(&mut out, w)?;
                }
                out.push('\n');
            }
        }
    }
    w.write_all(out.as_bytes())
}

fn write_csv(w: &mut impl Write, value: &Array) -> Result<()> {
    crate::array::each!(Array, value, a => csv_text(&a.view(), w))
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write CSV data: {e}")))
}

// ---------------------------------------------------------------------------------
// A Python literal parser, just enough for .npy headers.

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
enum PyLit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<PyLit>),
    List(Vec<PyLit>),
    Dict(Vec<(PyLit, PyLit)>),
}

impl std::fmt::Display for PyLit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn seq(f: &mut std::fmt::Formatter<'_>, items: &[PyLit]) -> std::fmt::Result {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            Ok(())
        }
        match self {
            PyLit::Str(s) => write!(f, "'{s}'"),
            PyLit::Int(n) => write!(f, "{n}"),
            PyLit::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            PyLit::None => f.write_str("None"),
            PyLit::Tuple(items) => {
                f.write_str("(")?;
                seq(f, items)?;
                f.write_str(if items.len() == 1 { ",)" } else { ")" })
            }
            PyLit::List(items) => {
                f.write_str("[")?;
                seq(f, items)?;
                f.write_str("]")
            }
            PyLit::Dict(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

struct PyParser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> PyParser<'a> {
    fn new(text: &'a str) -> Self {
        PyParser {
            s: text.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    fn parse_all(mut self) -> std::result::Result<PyLit, String> {
        let v = self.value()?;
        self.ws();
        if self.pos != self.s.len() {
            return Err(format!("unexpected text at byte {}", self.pos));
        }
        Ok(v)
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn value(&mut self) -> std::result::Result<PyLit, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("nested too deeply".into());
        }
        let v = match self.peek().ok_or("unexpected end")? {
            b'\'' | b'"' => self.string(),
            b'(' => self.seq(b')').map(PyLit::Tuple),
            b'[' => self.seq(b']').map(PyLit::List),
            b'{' => self.dict(),
            b'-' | b'+' | b'0'..=b'9' => self.int(),
            _ => self.word(),
        };
        self.depth -= 1;
        v
    }

    fn string(&mut self) -> std::result::Result<PyLit, String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos] != quote {
            if self.s[self.pos] == b'\\' {
                return Err("escapes in strings are not supported".into());
            }
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return Err("unterminated string".into());
        }
        let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(PyLit::Str(text))
    }

    fn int(&mut self) -> std::result::Result<PyLit, String> {
        let start = self.pos;
        if matches!(self.s[self.pos], b'-' | b'+') {
            self.pos += 1;
        }
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
        let n = text
            .parse::<i128>()
            .map_err(|_| format!("bad integer '{text}'"))?;
        // Python 2 long suffix, written by very old NumPy.
        if self.pos < self.s.len() && matches!(self.s[self.pos], b'L' | b'l') {
            self.pos += 1;
        }
        Ok(PyLit::Int(n))
    }

    fn word(&mut self) -> std::result::Result<PyLit, String> {
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_alphanumeric() {
            self.pos += 1;
        }
        match &self.s[start..self.pos] {
            b"True" => Ok(PyLit::Bool(true)),
            b"False" => Ok(PyLit::Bool(false)),
            b"None" => Ok(PyLit::None),
            w => Err(format!("unexpected '{}'", String::from_utf8_lossy(w))),
        }
    }

    fn seq(&mut self, close: u8) -> std::result::Result<Vec<PyLit>, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err("expected ',' or a closing bracket".into()),
            }
        }
    }

    fn dict(&mut self) -> std::result::Result<PyLit, String> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(PyLit::Dict(entries));
            }
            let k = self.value()?;
            if self.peek() != Some(b':') {
                return Err("expected ':'".into());
            }
            self.pos += 1;
            let v = self.value()?;
            entries.push((k, v));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err("expected ',' or '}'".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cancels `token` once `after` bytes went through it (a Ctrl-C mid-stream).
    struct CancelAfter<'t, T> {
        inner: T,
        token: &'t CancelToken,
        after: usize,
        moved: usize,
    }

    impl<T: Read> Read for CancelAfter<'_, T> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.moved += n;
            if self.moved >= self.after {
                self.token.cancel();
            }
            Ok(n)
        }
    }

    impl<T: Seek> Seek for CancelAfter<'_, T> {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    impl<T: Write> Write for CancelAfter<'_, T> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.moved += n;
            if self.moved >= self.after {
                self.token.cancel();
            }
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.inner.flush()
        }
    }

    /// 16 MiB of float64 as .npy bytes.
    fn big_npy() -> Vec<u8> {
        let a = ndarray::Array1::<f64>::from_iter((0..2 << 20).map(f64::from)).into_dyn();
        let mut bytes = Vec::new();
        a.write_npy(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_load_cancelled_midway_stops_within_a_chunk() {
        let bytes = big_npy();
        // Uncancelled, the watched reader reads it all.
        let token = CancelToken::new();
        let r = Watched::new(io::Cursor::new(&bytes[..]), &token);
        let a = read_npy(r, bytes.len() as u64, Path::new("big.npy")).unwrap();
        assert_eq!(a.shape(), &[2 << 20]);
        // Cancelled after 3 MiB: no more than one chunk more is read.
        let mut source = CancelAfter {
            inner: io::Cursor::new(&bytes[..]),
            token: &token,
            after: 3 << 20,
            moved: 0,
        };
        let e = read_npy(
            Watched::new(&mut source, &token),
            bytes.len() as u64,
            Path::new("big.npy"),
        )
        .unwrap_err();
        assert!(token.is_cancelled(), "{e:?}");
        assert!(source.moved <= (3 << 20) + CANCEL_CHUNK, "{}", source.moved);
    }

    #[test]
    fn a_save_cancelled_midway_stops_within_a_chunk() {
        let a = Array::Float64(
            ndarray::Array2::<f64>::from_shape_fn((1 << 10, 1 << 10), |(i, j)| (i * j) as f64)
                .into_dyn(),
        );
        let write = |what: &str, mut w: &mut dyn Write| match what {
            "csv" => write_csv(&mut w, &a),
            _ => write_npy(&mut w, &a),
        };
        for what in ["npy", "csv"] {
            let token = CancelToken::new();
            let mut sink = CancelAfter {
                inner: Vec::new(),
                token: &token,
                after: 2 << 20,
                moved: 0,
            };
            let e = write(what, &mut Watched::new(&mut sink, &token)).unwrap_err();
            assert!(token.is_cancelled(), "{what}: {e:?}");
            // At most one chunk past the Ctrl-C (a CSV piece is smaller).
            assert!(
                sink.moved <= (2 << 20) + CANCEL_CHUNK,
                "{what}: {}",
                sink.moved
            );
            // Not cancelled: all of it.
            let token = CancelToken::new();
            let mut all = Vec::new();
            write(what, &mut Watched::new(&mut all, &token)).unwrap();
            assert!(all.len() > 8 << 20, "{what}: {}", all.len());
        }
    }

    #[test]
    fn parses_headers() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }          \n";
        let v = PyParser::new(h).parse_all().unwrap();
        let PyLit::Dict(e) = v else { panic!() };
        assert_eq!(e[0].1, PyLit::Str("<f8".into()));
        assert_eq!(e[2].1, PyLit::Tuple(vec![PyLit::Int(3), PyLit::Int(4)]));
        let v =
            PyParser::new("{'descr': [('a', '<f8'), ('b', '<i4', (2,))], 'shape': (), 'x': 3L}")
                .parse_all()
                .unwrap();
        let PyLit::Dict(e) = v else { panic!() };
        assert_eq!(e[0].1.to_string(), "[('a', '<f8'), ('b', '<i4', (2,))]");
        assert!(PyParser::new("{'a': }").parse_all().is_err());
    }

    #[test]
    fn numbers() {
        let f = |s| {
            parse_number(s)
                .unwrap()
                .map(|a| (a.dtype(), a.to_scalars()))
        };
        assert_eq!(f("2.5").unwrap().0, DType::Float64);
        assert_eq!(f("-3").unwrap().0, DType::Int64);
        assert_eq!(f("true").unwrap().0, DType::Bool);
        assert_eq!(f("nan").unwrap().0, DType::Float64);
        assert_eq!(f("-inf").unwrap().0, DType::Float64);
        assert!(f("x.npy").is_none());
        assert!(f("info").is_none());
        assert!(parse_number("99999999999999999999").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(numpy_name("<u2").unwrap(), "uint16");
        assert_eq!(numpy_name("<c16").unwrap(), "complex128");
        assert_eq!(numpy_name("|O").unwrap(), "object");
        assert_eq!(numpy_name("<U5").unwrap(), "str");
    }

    #[test]
    fn large_arrays_move_to_huge_pages_keeping_values_and_layout() {
        use ndarray::ShapeBuilder;
        let n = 1 << 20; // 8 MiB of f64
        let c = ArrayD::from_shape_fn(ndarray::IxDyn(&[1024, n / 1024]), |ix| {
            (ix[0] * 7 + ix[1]) as f64
        });
        let f = ArrayD::from_shape_fn(ndarray::IxDyn(&[1024, n / 1024]).f(), |ix| {
            (ix[0] * 5 + ix[1]) as f64
        });
        let strided = c
            .slice(ndarray::s![.., ..;2])
            .to_owned()
            .reversed_axes()
            .into_dyn();
        for a in [c, f, strided] {
            let want = a.clone();
            let got = on_huge_pages(a);
            assert_eq!(got, want);
            assert_eq!(got.strides(), want.strides());
        }
        // Small arrays are left where they are.
        let small = ArrayD::from_elem(ndarray::IxDyn(&[10]), 1.5f32);
        let ptr = small.as_ptr();
        assert_eq!(on_huge_pages(small).as_ptr(), ptr);
    }
}
