//! The responses nginx generates itself (ngx_http_special_response.c).

/// Status line text nginx uses for its own responses.
pub fn own_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        413 => "Request Entity Too Large",
        401 => "Authorization Required",
        _ => "Internal Server Error",
    }
}

/// nginx's built-in error page. Lines end in CRLF, exactly as nginx sends them.
pub fn error_page(status: u16, version: &str, server_tokens: bool) -> String {
    let title = format!("{status} {}", own_reason(status));
    let tail = if server_tokens { format!("nginx/{version}") } else { "nginx".to_string() };
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>{tail}</center>\r\n</body>\r\n</html>\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_match_real_nginx_1_22_1() {
        // docs/research/nginx-1.22-observations.md, default error pages.
        for (status, on, off) in [(502, 157, 150), (503, 197, 190), (504, 167, 160), (500, 177, 170)] {
            assert_eq!(error_page(status, "1.22.1", true).len(), on, "{status} on");
            assert_eq!(error_page(status, "1.22.1", false).len(), off, "{status} off");
        }
    }
}
