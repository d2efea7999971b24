fn main() {
    println!("leakguard {}", leakguard::VERSION);
}
