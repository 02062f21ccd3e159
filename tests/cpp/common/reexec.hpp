// Starts this same test binary again as a child process, with extra environment variables,
// for crash tests: the child sees the variables, does its work and is killed with SIGKILL.
// exec'ing (instead of working in the forked copy) gives the child a clean process: no gtest
// state and no threads of the parent half-copied by fork.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace kinako::testing {

// The parent's environment minus variables starting with `prefix`, plus `extra`
// ("NAME=value" strings). In the child, `close_in_child` is closed before exec (the read end
// of a pipe whose write end the child keeps). Returns the child's pid, or -1 if fork failed.
inline pid_t spawn_self(const std::string& prefix, const std::vector<std::string>& extra, int close_in_child) {
    // Everything the child needs is prepared before fork (only exec runs in between).
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), extra.begin(), extra.end());
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    char* argv[] = {self.data(), nullptr};
    pid_t pid = fork();
    if (pid == 0) {
        close(close_in_child);
        execve(self.c_str(), argv, envp.data());
        _exit(127);
    }
    return pid;
}

}  // namespace kinako::testing
