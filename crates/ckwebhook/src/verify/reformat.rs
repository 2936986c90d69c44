//! Re-serialising a JSON body the ways a signer or a framework might.

/// The body with insignificant whitespace removed, keys and numbers kept
/// as written (what `JSON.stringify(JSON.parse(body))` gives for most bodies).
pub(crate) fn minify(body: &[u8]) -> Vec<u8> {
    reformat(body, None)
}

/// The body pretty-printed with `indent` spaces, keys and numbers kept.
pub(crate) fn prettify(body: &[u8], indent: usize) -> Vec<u8> {
    reformat(body, Some(indent))
}

fn reformat(body: &[u8], indent: Option<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped, mut depth) = (false, false, 0usize);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        if let Some(width) = indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', width * depth));
        }
    };
    for (at, byte) in body.iter().copied().enumerate() {
        if in_string {
            out.push(byte);
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(byte);
            }
            b'{' | b'[' => {
                out.push(byte);
                let next = body[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if matches!(next, Some(b'}' | b']')) {
                    // Empty containers stay `{}` / `[]`, as in JSON.stringify.
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            b'}' | b']' => {
                let empty = matches!(out.last(), Some(b'{' | b'['));
                if !empty {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(byte);
            }
            b',' => {
                out.push(byte);
                newline(&mut out, depth);
            }
            b':' => {
                out.push(byte);
                if indent.is_some() {
                    out.push(b' ');
                }
            }
            _ => out.push(byte),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minifies_and_prettifies_keeping_order() {
        let body = br#"{ "b": 1.50, "a": [ ], "c": {"s": "x, y: {z}\" "}, "d": [1, {}] }"#;
        assert_eq!(
            minify(body),
            br#"{"b":1.50,"a":[],"c":{"s":"x, y: {z}\" "},"d":[1,{}]}"#
        );
        let pretty = String::from_utf8(prettify(&minify(body), 2)).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"b\": 1.50,\n  \"a\": [],\n  \"c\": {\n    \"s\": \"x, y: {z}\\\" \"\n  },\n  \"d\": [\n    1,\n    {}\n  ]\n}"
        );
        assert_eq!(minify(pretty.as_bytes()), minify(body));
    }
}
