//! Decoders for the layers identifiers hide in: URL escapes, ASCII hex, base64 (either
//! alphabet, any alignment, padded or not, line-wrapped), gzip/deflate.
