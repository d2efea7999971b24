//! Structural identifiers: what makes 15 digits an IMEI and not an order number (Luhn, the
//! GSMA reporting body), an IMSI (a real MCC), an ICCID (89, Luhn), a MAC, a phone number.
