fn main() {
    print!("{}", gdlens_api::sdl());
}
