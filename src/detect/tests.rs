//! Detector tests: every kind in every form, the China Telecom request, benign look-alikes.
