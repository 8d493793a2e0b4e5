//! The bytes that cross the pipes: a small serialization ([`Wire`]) and length-prefixed
//! frames.
//!
//! Encoding, all little-endian: integers as their fixed-width bytes (`usize`/`isize` as 64
//! bits), `bool` as one byte, `f32`/`f64` as their IEEE bits, `char` as a `u32`, strings and
//! byte vectors as a `u64` length then the bytes, `Vec<T>` as a `u64` count then the items,
//! `Option<T>` as a tag byte (0 none, 1 some) then the value, `Result<T, E>` as a tag byte
//! (0 ok, 1 err) then the value, tuples as their fields in order, `()` as nothing. A frame on
//! a pipe is a `u32` length then that many bytes.

use std::fmt;
use std::io::{self, Read, Write};

/// The largest frame either side accepts (a corrupted length must not allocate gigabytes).
pub const MAX_FRAME: usize = 256 << 20;

/// Why bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub(crate) String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode: {}", self.0)
    }
}

impl std::error::Error for WireError {}

/// A value that can cross a process boundary: it encodes itself to bytes and decodes back.
///
/// Implemented for integers, floats, `bool`, `char`, `String`, `()`, `Vec<T>`, `Option<T>`,
/// `Result<T, E>`, `Box<T>` and tuples of up to four. Implement it for your own types by
/// encoding their fields in order:
///
/// # Examples
///
/// ```
/// use synckit::process::{Wire, WireError};
///
/// #[derive(Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
///
/// impl Wire for Point {
///     fn encode(&self, out: &mut Vec<u8>) {
///         self.x.encode(out);
///         self.y.encode(out);
///     }
///     fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
///         Ok(Point { x: i32::decode(input)?, y: i32::decode(input)? })
///     }
/// }
///
/// let bytes = synckit::process::to_bytes(&Point { x: 3, y: -4 });
/// assert_eq!(synckit::process::from_bytes::<Point>(&bytes).unwrap(), Point { x: 3, y: -4 });
/// ```
pub trait Wire: Sized {
    /// Appends this value's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads a value from the front of `input`, advancing it past the bytes read.
    ///
    /// # Errors
    ///
    /// [`WireError`] when the bytes are too few or not a valid encoding.
    fn decode(input: &mut &[u8]) -> Result<Self, WireError>;
}

/// Encodes a value into a fresh byte vector.
pub fn to_bytes<T: Wire>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

/// Decodes a whole byte slice into a value.
///
/// # Errors
///
/// [`WireError`] when the bytes are not a valid encoding of `T`, or when bytes are left over.
pub fn from_bytes<T: Wire>(mut bytes: &[u8]) -> Result<T, WireError> {
    let value = T::decode(&mut bytes)?;
    if !bytes.is_empty() {
        return Err(WireError(format!("{} bytes left over", bytes.len())));
    }
    Ok(value)
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], WireError> {
    if input.len() < n {
        return Err(WireError(format!("needed {n} bytes, {} left", input.len())));
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
                let bytes = take(input, std::mem::size_of::<$t>())?;
                Ok(<$t>::from_le_bytes(bytes.try_into().expect("sized")))
            }
        }
    )*};
}

wire_int!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64);

impl Wire for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u64).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let v = u64::decode(input)?;
        usize::try_from(v).map_err(|_| WireError(format!("{v} does not fit a usize")))
    }
}

impl Wire for isize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as i64).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let v = i64::decode(input)?;
        isize::try_from(v).map_err(|_| WireError(format!("{v} does not fit an isize")))
    }
}

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(WireError(format!("{b} is not a bool"))),
        }
    }
}

impl Wire for char {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u32).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let v = u32::decode(input)?;
        char::from_u32(v).ok_or_else(|| WireError(format!("{v:#x} is not a char")))
    }
}

impl Wire for () {
    fn encode(&self, _out: &mut Vec<u8>) {}
    fn decode(_input: &mut &[u8]) -> Result<Self, WireError> {
        Ok(())
    }
}

fn decode_len(input: &mut &[u8]) -> Result<usize, WireError> {
    let n = u64::decode(input)?;
    // Every element takes at least one byte except zero-sized ones; refuse absurd lengths
    // before allocating for them.
    if n > MAX_FRAME as u64 {
        return Err(WireError(format!("length {n} is too large")));
    }
    Ok(n as usize)
}

impl Wire for String {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let n = decode_len(input)?;
        let bytes = take(input, n)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| WireError(format!("not UTF-8: {e}")))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        let n = decode_len(input)?;
        let mut v = Vec::with_capacity(n.min(input.len().max(16)));
        for _ in 0..n {
            v.push(T::decode(input)?);
        }
        Ok(v)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(input)?)),
            b => Err(WireError(format!("{b} is not an Option tag"))),
        }
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Ok(v) => {
                out.push(0);
                v.encode(out);
            }
            Err(e) => {
                out.push(1);
                e.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            0 => Ok(Ok(T::decode(input)?)),
            1 => Ok(Err(E::decode(input)?)),
            b => Err(WireError(format!("{b} is not a Result tag"))),
        }
    }
}

impl<T: Wire> Wire for Box<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        Ok(Box::new(T::decode(input)?))
    }
}

macro_rules! wire_tuple {
    ($($name:ident),+) => {
        impl<$($name: Wire),+> Wire for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode(&self, out: &mut Vec<u8>) {
                let ($($name,)+) = self;
                $($name.encode(out);)+
            }
            fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
                Ok(($($name::decode(input)?,)+))
            }
        }
    };
}

wire_tuple!(A);
wire_tuple!(A, B);
wire_tuple!(A, B, C);
wire_tuple!(A, B, C, D);

/// Writes one frame: the length as a little-endian `u32`, then the bytes.
pub(crate) fn write_frame(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if bytes.len() > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a frame of {} bytes is over the {MAX_FRAME} limit",
                bytes.len()
            ),
        ));
    }
    let mut buf = Vec::with_capacity(4 + bytes.len());
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` on a clean end of stream before a frame starts.
pub(crate) fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes is over the {MAX_FRAME} limit"),
        ));
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round<T: Wire + PartialEq + fmt::Debug>(v: T) {
        assert_eq!(from_bytes::<T>(&to_bytes(&v)).unwrap(), v);
    }

    #[test]
    fn values_round_trip() {
        round(0u8);
        round(u64::MAX);
        round(-5i32);
        round(i128::MIN);
        round(usize::MAX);
        round(-3isize);
        round(1.5f64);
        round(true);
        round('é');
        round(());
        round(String::from("héllo"));
        round(vec![1u16, 2, 3]);
        round(Some(vec![String::new()]));
        round(None::<u8>);
        round(Ok::<u8, String>(1));
        round(Err::<u8, String>("no".into()));
        round((1u8, String::from("a"), vec![true], Some(2i64)));
        round(Box::new(7u32));
    }

    #[test]
    fn bad_bytes_are_errors_not_panics() {
        assert!(from_bytes::<u64>(&[1, 2]).is_err());
        assert!(from_bytes::<bool>(&[2]).is_err());
        assert!(from_bytes::<String>(&[255; 8]).is_err());
        assert!(from_bytes::<Vec<u64>>(&to_bytes(&5u64)).is_err());
        assert!(
            from_bytes::<u8>(&[1, 2])
                .unwrap_err()
                .to_string()
                .contains("left over")
        );
        assert!(from_bytes::<char>(&to_bytes(&0xD800u32)).is_err());
    }

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let mut pipe = Vec::new();
        write_frame(&mut pipe, b"abc").unwrap();
        write_frame(&mut pipe, b"").unwrap();
        let mut r = &pipe[..];
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"abc");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r).unwrap().is_none());
        let mut cut = &pipe[..5];
        assert!(read_frame(&mut cut).is_err());
        let mut huge = &[0xff, 0xff, 0xff, 0xff][..];
        assert!(read_frame(&mut huge).is_err());
    }
}
