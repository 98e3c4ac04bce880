//! Content as it travels: `content-encoding` decoders that work chunk by
//! chunk (gzip, deflate, br, zstd) and percent-encoding of URL and form
//! components. The recorder stores bodies decoded, the provider stub reads
//! them, the redactor looks for secrets in their percent-encoded forms.

use std::io::{self, Write};

/// An incremental decoder: compressed bytes in, decoded bytes out as soon as
/// they are ready, so each decoded piece keeps the time of the wire chunk
/// that completed it.
pub trait StreamDecoder {
    /// Feed one wire chunk; returns what it decoded to.
    fn feed(&mut self, data: &[u8]) -> io::Result<Vec<u8>>;
    /// End of input: the rest of the output, or an error if the stream was cut short.
    fn finish(self: Box<Self>) -> io::Result<Vec<u8>>;
}

/// The two things each compression crate's writer does differently.
trait DecoderWriter: Write {
    fn output(&mut self) -> &mut Vec<u8>;
    fn finish_stream(self) -> io::Result<Vec<u8>>;
}

impl<D: DecoderWriter> StreamDecoder for D {
    fn feed(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        self.write_all(data)?;
        self.flush()?;
        Ok(std::mem::take(self.output()))
    }

    fn finish(self: Box<Self>) -> io::Result<Vec<u8>> {
        (*self).finish_stream()
    }
}

impl DecoderWriter for flate2::write::GzDecoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn finish_stream(self) -> io::Result<Vec<u8>> {
        self.finish()
    }
}

impl DecoderWriter for flate2::write::ZlibDecoder<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn finish_stream(self) -> io::Result<Vec<u8>> {
        self.finish()
    }
}

impl DecoderWriter for brotli::DecompressorWriter<Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn finish_stream(self) -> io::Result<Vec<u8>> {
        self.into_inner().map_err(|_| io::Error::new(io::ErrorKind::UnexpectedEof, "brotli stream cut short"))
    }
}

impl DecoderWriter for zstd::stream::write::Decoder<'static, Vec<u8>> {
    fn output(&mut self) -> &mut Vec<u8> {
        self.get_mut()
    }
    fn finish_stream(self) -> io::Result<Vec<u8>> {
        self.finish()
    }
}

/// Makes a fresh decoder for one body.
pub type NewDecoder = fn() -> io::Result<Box<dyn StreamDecoder>>;

/// `content-encoding` values we undo, with their decoders.
pub const DECODERS: &[(&str, NewDecoder)] = &[
    ("gzip", || Ok(Box::new(flate2::write::GzDecoder::new(Vec::new())))),
    // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2).
    ("deflate", || Ok(Box::new(flate2::write::ZlibDecoder::new(Vec::new())))),
    ("br", || Ok(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096)))),
    ("zstd", || Ok(Box::new(zstd::stream::write::Decoder::new(Vec::new())?))),
];

/// `bytes` with the `content-encoding` `encoding` undone, for readers of a
/// whole body (the provider stub reads `model` and `stream` from it). `None`
/// for identity or an encoding we do not know; `Some(Err)` when the bytes do not decode.
pub fn decode_content(encoding: &str, bytes: &[u8]) -> Option<io::Result<Vec<u8>>> {
    let encoding = encoding.trim().to_ascii_lowercase();
    let (_, new) = DECODERS.iter().find(|(name, _)| *name == encoding)?;
    Some(new().and_then(|mut decoder| {
        let mut out = decoder.feed(bytes)?;
        out.extend(decoder.finish()?);
        Ok(out)
    }))
}

/// Percent-encode everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decode a form or query component (`+` is a space); `None` if malformed.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
