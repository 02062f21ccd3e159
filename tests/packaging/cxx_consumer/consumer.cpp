// Echo RPC to itself over na+sm through the installed headers and libkinako-margo.
// Prints "echo: <payload>" and exits 0 when the answer matches.
#include <mochi/margo/engine.hpp>

#include <iostream>
#include <string>

int main() {
    mochi::margo::Engine engine("na+sm", mochi::margo::Mode::Server);
    engine.define("echo", [](const mochi::margo::Request& req) { req.respond(req.input()); });
    const std::string payload = "from an installed kinako";
    auto response = engine.forward(engine.self(), "echo", payload, 0, 10000);
    const std::string out(response.output());
    engine.finalize();
    std::cout << "echo: " << out << std::endl;
    return out == payload ? 0 : 1;
}
