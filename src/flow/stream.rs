//! TCP stream order for one flow: the next expected sequence number, trimming of retransmitted
//! bytes, and the carry of already-scanned bytes.
