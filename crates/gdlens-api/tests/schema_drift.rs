//! `schema.graphql` at the repository root must be exactly the SDL the server builds
//! (`gdlens schema > schema.graphql` regenerates it).

#[test]
fn schema_graphql_matches_the_sdl() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let sdl = gdlens_api::sdl();
    assert!(
        committed == sdl,
        "schema.graphql differs from the server's SDL; regenerate it with `cargo run -p gdlens -- schema > schema.graphql`"
    );
}
