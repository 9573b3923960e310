// A stand-in for provium-runner, for testing the supervisor's side of the
// protocol without Lua: the "test file" it is given is a script, one command
// per line:
//   pass NAME | fail NAME MESSAGE | skip NAME REASON   report a finished test
//   start NAME                                          testStarted only
//   require MODULE          loadModule; passes test "require MODULE" or fails it with the error
//   file PATH CONTENT       inject a file into the next boot (VmOptions.files)
//   boot PROFILE [MEM]      createVm + boot; test "boot" passes when an agent fd arrives
//   agent-hello             speak the agent protocol's hello on that fd (needs a real guest)
//   console                 print the VM's console tail to stdout
//   print TEXT              print to stdout (the runner log)
//   pidfile PATH            write our pid to PATH (to check we were killed)
//   sleep SECONDS           block
//   signal NUMBER           raise a signal (e.g. 11, 31)
//   exit CODE               exit without finish()
//   chunk-error TEXT        finish() with a chunk error
//   linger                  after finish(), never exit
//   hangup                  shut the supervisor connection down, then sleep forever
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.capnp.h"
#include "frame.h"
#include "runner.capnp.h"

// Under ASan, crashing on purpose must look like a real crash to the
// supervisor (death by SIGSEGV), not like ASan's report and exit code.
extern "C" const char* __asan_default_options() { return "handle_segv=0:handle_abort=0"; }

namespace {

namespace wire = provium::wire::runner;

struct Outcome {
  std::string name;
  wire::TestStatus status;
  std::string message;
};

std::string rest_of(std::istringstream& in) {
  std::string rest;
  std::getline(in, rest);
  if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  return rest;
}

class FakeRunner {
 public:
  FakeRunner(wire::Session::Client session, kj::WaitScope& wait) : session_(kj::mv(session)), wait_(wait) {}

  int run() {
    const std::string script = hello();
    std::istringstream lines(script);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) execute(line);
    }
    auto request = session_.finishRequest();
    auto outcome = request.initOutcome();
    if (!chunk_error_.empty()) {
      outcome.setHasChunkError(true);
      outcome.setChunkError(chunk_error_);
    }
    auto tests = outcome.initTests(static_cast<unsigned>(outcomes_.size()));
    for (unsigned i = 0; i < tests.size(); ++i) fill(tests[i], outcomes_[i]);
    request.send().wait(wait_);
    while (linger_) ::pause();
    return 0;
  }

 private:
  std::string hello() {
    auto request = session_.helloRequest();
    request.setRunnerVersion(wire::PROTOCOL_VERSION);
    auto reply = request.send().wait(wait_);
    auto source = reply.getJob().getSource();
    std::cout << "job " << reply.getJob().getDisplayPath().cStr() << " chunk " << reply.getJob().getChunkName().cStr()
              << " tags " << reply.getJob().getFilter().getTags().size() << std::endl;
    return std::string(source.asChars().begin(), source.size());
  }

  static void fill(wire::TestOutcome::Builder builder, const Outcome& outcome) {
    builder.setName(outcome.name);
    builder.setStatus(outcome.status);
    builder.setMessage(outcome.message);
  }

  void report(Outcome outcome) {
    auto request = session_.testFinishedRequest();
    fill(request.initOutcome(), outcome);
    request.send().wait(wait_);
    outcomes_.push_back(std::move(outcome));
  }

  void execute(const std::string& line) {
    std::istringstream in(line);
    std::string command, name;
    in >> command;
    if (command == "pass" || command == "fail" || command == "skip") {
      in >> name;
      const auto status = command == "pass" ? wire::TestStatus::PASSED
                          : command == "fail" ? wire::TestStatus::FAILED
                                              : wire::TestStatus::SKIPPED;
      report({name, status, rest_of(in)});
    } else if (command == "start") {
      in >> name;
      auto request = session_.testStartedRequest();
      request.setName(name);
      request.send().wait(wait_);
    } else if (command == "require") {
      in >> name;
      load_module(name);
    } else if (command == "boot") {
      std::string profile;
      std::uint64_t memory = 0;
      in >> profile >> memory;
      boot(profile, memory);
    } else if (command == "agent-hello") {
      agent_hello();
    } else if (command == "console") {
      auto request = vm_.consoleTailRequest();
      request.setMaxBytes(4096);
      auto text = request.send().wait(wait_).getText();
      std::cout << std::string(text.asChars().begin(), text.size()) << std::endl;
    } else if (command == "file") {
      in >> name;
      files_.emplace_back(name, rest_of(in));
    } else if (command == "pidfile") {
      in >> name;
      std::ofstream(name) << ::getpid() << std::endl;
    } else if (command == "print") {
      std::cout << rest_of(in) << std::endl;
    } else if (command == "sleep") {
      double seconds = 0;
      in >> seconds;
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    } else if (command == "signal") {
      int number = 0;
      in >> number;
      std::cout << std::flush;
      ::raise(number);
    } else if (command == "exit") {
      int code = 0;
      in >> code;
      std::cout << std::flush;
      std::_Exit(code);
    } else if (command == "chunk-error") {
      chunk_error_ = rest_of(in);
    } else if (command == "hangup") {
      ::shutdown(3, SHUT_RDWR);
      for (;;) ::pause();
    } else if (command == "linger") {
      linger_ = true;
    }
  }

  void load_module(const std::string& name) {
    auto request = session_.loadModuleRequest();
    request.setName(name);
    try {
      auto reply = request.send().wait(wait_);
      const auto source = reply.getSource();
      report({"require " + name, wire::TestStatus::PASSED,
              std::string(reply.getChunkName().cStr()) + " " + std::string(source.asChars().begin(), source.size())});
    } catch (const kj::Exception& error) {
      report({"require " + name, wire::TestStatus::FAILED, error.getDescription().cStr()});
    }
  }

  void boot(const std::string& profile, std::uint64_t memory) {
    try {
      auto create = session_.createVmRequest();
      create.setName("vm1");
      create.setProfile(profile);
      auto options = create.initOptions();
      options.setMemoryBytes(memory);
      auto files = options.initFiles(static_cast<unsigned>(files_.size()));
      for (unsigned i = 0; i < files.size(); ++i) {
        files[i].setPath(files_[i].first);
        files[i].setContent(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(files_[i].second.data()),
                                                files_[i].second.size()));
      }
      vm_ = create.send().wait(wait_).getVm();
      auto reply = vm_.bootRequest().send().wait(wait_);
      auto fd = reply.getChannel().getFd().wait(wait_);
      KJ_IF_MAYBE(received, fd) { agent_fd_ = ::dup(*received); }
      report({"boot", agent_fd_ >= 0 ? wire::TestStatus::PASSED : wire::TestStatus::FAILED,
              std::string("accel=") + reply.getInfo().getAccel().cStr()});
    } catch (const kj::Exception& error) {
      report({"boot", wire::TestStatus::FAILED, error.getDescription().cStr()});
    }
  }

  // Sends the agent protocol's hello and waits (up to 30 s) for helloOk.
  void agent_hello() {
    capnp::MallocMessageBuilder message;
    auto request = message.initRoot<provium::wire::agent::Request>();
    request.setId(1);
    request.initHello().setProtocolVersion(provium::wire::agent::PROTOCOL_VERSION);
    const auto frame = provium::frame::encode(message);
    const bool sent = ::write(agent_fd_, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size());
    provium::frame::Decoder decoder;
    pollfd ready{agent_fd_, POLLIN, 0};
    std::string verdict = "no reply";
    while (sent && ::poll(&ready, 1, 30000) == 1) {
      std::byte buffer[4096];
      const ssize_t got = ::read(agent_fd_, buffer, sizeof buffer);
      if (got <= 0) break;
      decoder.feed(buffer, static_cast<std::size_t>(got));
      if (auto body = decoder.next()) {
        capnp::FlatArrayMessageReader reader(*body);
        auto response = reader.getRoot<provium::wire::agent::Response>();
        verdict = response.isHelloOk() ? std::string("helloOk from ") + response.getHelloOk().getGuestOs().cStr()
                                       : "unexpected reply";
        break;
      }
    }
    report({"agent-hello", verdict.rfind("helloOk", 0) == 0 ? wire::TestStatus::PASSED : wire::TestStatus::FAILED,
            verdict});
  }

  wire::Session::Client session_;
  kj::WaitScope& wait_;
  wire::Vm::Client vm_ = nullptr;
  int agent_fd_ = -1;
  std::vector<Outcome> outcomes_;
  std::vector<std::pair<std::string, std::string>> files_;
  std::string chunk_error_;
  bool linger_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]) != "--ipc-fd=3") {
    std::cerr << "usage: fake-runner --ipc-fd=3\n";
    return 2;
  }
  if (::getenv("HOME") || ::getenv("PATH")) {
    std::cerr << "fake-runner: the environment should be empty\n";
    return 4;
  }
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapUnixSocketFd(3, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  capnp::TwoPartyClient client(*stream, 2);
  FakeRunner runner(client.bootstrap().castAs<wire::Session>(), io.waitScope);
  try {
    return runner.run();
  } catch (const kj::Exception& error) {
    std::cerr << "fake-runner: " << error.getDescription().cStr() << std::endl;
    return 1;
  }
}
