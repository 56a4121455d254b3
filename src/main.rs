fn main() {
    gateway_lab::ui::start();
}
