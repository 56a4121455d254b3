//! HAProxy 2.6's built-in error responses (`http_err_msgs` in src/http.c).

/// (reason phrase, body) for `status`.
pub fn error_page(status: u16) -> (&'static str, String) {
    let (reason, text) = match status {
        400 => ("Bad request", "Your browser sent an invalid request."),
        403 => ("Forbidden", "Request forbidden by administrative rules."),
        429 => ("Too Many Requests", "You have sent too many requests in a given amount of time."),
        500 => ("Internal Server Error", "An internal server error occurred."),
        502 => ("Bad Gateway", "The server returned an invalid or incomplete response."),
        503 => ("Service Unavailable", "No server is available to handle this request."),
        504 => ("Gateway Time-out", "The server didn't respond in time."),
        _ => ("Internal Server Error", "An internal server error occurred."),
    };
    (reason, format!("<html><body><h1>{status} {reason}</h1>\n{text}\n</body></html>\n"))
}
