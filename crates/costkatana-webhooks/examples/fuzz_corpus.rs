//! Writes the fuzzers' seed corpus: the signed vectors and a signed sample
//! event of every type, in both body shapes and every scheme.
//!
//! `cargo run -p costkatana-webhooks --features testing --example fuzz_corpus -- fuzz/corpus`
//!
//! A request seed is `<now ms>\n<Name>: <value>\n…\n\n<body>`, the format
//! the `verify` and `intake` targets read; an event seed is the body alone.

use std::path::{Path, PathBuf};

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};

#[path = "../tests/support/vectors.rs"]
mod vectors;

/// The secret the fuzz targets verify with.
const SECRET: &str = "whsec_fuzz";
const NOW: i64 = 1_777_377_600_000;

fn request(now_ms: i64, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut seed = format!("{now_ms}\n").into_bytes();
    for (name, value) in headers {
        seed.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    seed.push(b'\n');
    seed.extend_from_slice(body);
    seed
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("create the corpus directory");
    std::fs::write(dir.join(name), bytes).expect("write a seed");
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let mut requests = Vec::new();
    for file in ["signatures.json", "vectors_extra.json"] {
        for vector in vectors::vectors(file) {
            let now = vector["now_ms"].as_i64().unwrap_or(NOW);
            let name = vector["name"].as_str().expect("a name").to_owned();
            let seed = request(now, &vectors::headers(&vector), &vectors::body(&vector));
            requests.push((name, seed));
        }
    }
    // Every type in both shapes; the schemes take turns.
    let mut schemes = Scheme::ALL.iter().cycle();
    for ty in EventType::KNOWN {
        for (shape, shape_name) in [(Shape::Camel, "camel"), (Shape::Snake, "snake")] {
            let body = sample_event(&ty, shape, "evt_fuzz", NOW);
            write(
                &root.join("event"),
                &format!("{ty}-{shape_name}.json"),
                body.as_bytes(),
            );
            let scheme = *schemes.next().expect("a cycle never ends");
            let headers = sign(scheme, SECRET, NOW, body.as_bytes());
            requests.push((
                format!("{ty}-{shape_name}-{scheme}"),
                request(NOW, &headers, body.as_bytes()),
            ));
        }
    }
    write(
        &root.join("event"),
        "template.json",
        br#""{\"text\": \"system.error: Webhook Test\"}""#,
    );
    for (name, seed) in &requests {
        for target in ["verify", "intake"] {
            write(&root.join(target), &format!("{name}.req"), seed);
        }
        // The header parsers read the header block alone.
        let head = seed
            .split(|&b| b == b'\n')
            .skip(1)
            .take_while(|line| !line.is_empty());
        let head: Vec<u8> = head
            .flat_map(|line| line.iter().copied().chain([b'\n']))
            .collect();
        write(&root.join("headers"), &format!("{name}.txt"), &head);
    }
    println!(
        "wrote {} request seeds and {} event seeds under {}",
        requests.len(),
        EventType::KNOWN.len() * 2 + 1,
        root.display()
    );
}
