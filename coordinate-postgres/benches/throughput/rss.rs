//! Peak resident memory of this process, per benchmark run.
//!
//! Linux keeps the high-water mark in `/proc/self/status` (`VmHWM`);
//! writing `5` to `/proc/self/clear_refs` resets it to the current size,
//! so each run's peak is its own. Elsewhere both do nothing.

/// Resets the peak to the current resident size (best effort).
pub fn reset_peak() {
    // Fails on kernels without clear_refs; the peak then spans runs.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident size since the last reset, in MiB.
pub fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
