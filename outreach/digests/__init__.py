"""The weekly digest for heads: build (figures and sections), render (HTML email with the chart
inline, plain text), send (SMTP or console), archive (one row per school and ISO week)."""
