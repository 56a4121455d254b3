//! Apache httpd 2.4's own error pages, byte for byte as 2.4.71 (Debian)
//! sent them (docs/research/apache-caddy-varnish-observations.md §1):
//! `ap_send_error_response` with mod_proxy's `error-notes` for 502 and 500.

const HEAD: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n";

/// 503 Service Unavailable (339 bytes): a backend that could not be connected to.
pub fn service_unavailable() -> String {
    format!(
        "{HEAD}<title>503 Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n</body></html>\n"
    )
}

/// 502 Proxy Error (381 bytes with "Error reading from remote server").
pub fn proxy_error_502(reason: &str) -> String {
    format!(
        "{HEAD}<title>502 Proxy Error</title>\n</head><body>\n<h1>Proxy Error</h1>\n<p>The proxy server received an invalid\r\nresponse from an upstream server.<br />\r\nThe proxy server could not handle the request<p>Reason: <strong>{reason}</strong></p></p>\n</body></html>\n"
    )
}

/// 502 Bad Gateway (272 bytes): a response that broke after its header
/// (AH01110), or a header line without a colon.
pub fn bad_gateway() -> String {
    format!(
        "{HEAD}<title>502 Bad Gateway</title>\n</head><body>\n<h1>Bad Gateway</h1>\n<p>The proxy server received an invalid\r\nresponse from an upstream server.<br />\r\n</p>\n</body></html>\n"
    )
}

/// 400 Bad Request (318 bytes): a request header line above LimitRequestFieldSize.
pub fn field_too_large() -> String {
    format!(
        "{HEAD}<title>400 Bad Request</title>\n</head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request that this server could not understand.<br />\nSize of a request header field exceeds server limit.</p>\n</body></html>\n"
    )
}

/// 500 Proxy Error (311 bytes for `nonexistent.invalid`): the backend's name did not resolve.
pub fn proxy_error_500(reason: &str) -> String {
    format!(
        "{HEAD}<title>500 Proxy Error</title>\n</head><body>\n<h1>Proxy Error</h1>\nThe proxy server could not handle the request<p>Reason: <strong>{reason}</strong></p><p />\n</body></html>\n"
    )
}

/// 500 Internal Server Error (571 bytes without ServerAdmin).
pub fn internal_server_error() -> String {
    format!(
        "{HEAD}<title>500 Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n [no address given] to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>\n</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_have_the_measured_lengths() {
        assert_eq!(service_unavailable().len(), 339);
        assert_eq!(proxy_error_502("Error reading from remote server").len(), 381);
        assert_eq!(proxy_error_500("DNS lookup failure for: nonexistent.invalid").len(), 311);
        assert_eq!(internal_server_error().len(), 571);
        assert_eq!(bad_gateway().len(), 272);
        assert_eq!(field_too_large().len(), 318);
    }
}
