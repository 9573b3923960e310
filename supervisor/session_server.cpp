#include "session_server.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "discovery.h"
#include "module_resolver.h"
#include "kj_error.h"
#include "lab_snapshot_index.h"
#include "snapshot_file.h"
#include "test_outcome_reader.h"
#include "vm_server.h"

namespace provium {
namespace {

using wire::runner::PROTOCOL_VERSION;

capnp::Data::Reader as_data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

std::string text_of(capnp::Text::Reader text) { return std::string(text.begin(), text.size()); }

void fill_filter(wire::runner::TestFilter::Builder filter, const TestSelection& selection) {
  filter.setIncludeSlow(selection.include_slow);
  auto tags = filter.initTags(static_cast<unsigned>(selection.tags.size()));
  for (unsigned i = 0; i < tags.size(); ++i) tags.set(i, selection.tags[i]);
  auto no_tags = filter.initNoTags(static_cast<unsigned>(selection.no_tags.size()));
  for (unsigned i = 0; i < no_tags.size(); ++i) no_tags.set(i, selection.no_tags[i]);
  auto fill_meta = [](capnp::List<wire::runner::KeyValue>::Builder list, const std::vector<MetaMatch>& matches) {
    for (unsigned i = 0; i < list.size(); ++i) {
      list[i].setKey(matches[i].key);
      list[i].setValue(matches[i].value);
    }
  };
  fill_meta(filter.initTagMeta(static_cast<unsigned>(selection.tag_meta.size())), selection.tag_meta);
  fill_meta(filter.initNoTagMeta(static_cast<unsigned>(selection.no_tag_meta.size())), selection.no_tag_meta);
}

LabIndex lab_index_from_wire(wire::runner::LabSnapshotIndex::Reader wire) {
  LabIndex index;
  for (auto bridge : wire.getBridges()) index.bridges.push_back(text_of(bridge));
  for (auto vm : wire.getVms()) {
    LabIndexVm entry{text_of(vm.getName()), text_of(vm.getProfile()), text_of(vm.getFile()), vm.getPaused(), {}};
    for (auto nic : vm.getNics()) entry.nics.push_back(LabIndexNic{text_of(nic.getBridge()), nic.getSlot()});
    index.vms.push_back(std::move(entry));
  }
  return index;
}

void lab_index_to_wire(const LabIndex& index, wire::runner::LabSnapshotIndex::Builder out) {
  auto bridges = out.initBridges(static_cast<unsigned>(index.bridges.size()));
  for (unsigned i = 0; i < bridges.size(); ++i) bridges.set(i, index.bridges[i]);
  auto vms = out.initVms(static_cast<unsigned>(index.vms.size()));
  for (unsigned i = 0; i < vms.size(); ++i) {
    vms[i].setName(index.vms[i].name);
    vms[i].setProfile(index.vms[i].profile);
    vms[i].setFile(index.vms[i].file);
    vms[i].setPaused(index.vms[i].paused);
    auto nics = vms[i].initNics(static_cast<unsigned>(index.vms[i].nics.size()));
    for (unsigned j = 0; j < nics.size(); ++j) {
      nics[j].setBridge(index.vms[i].nics[j].bridge);
      nics[j].setSlot(index.vms[i].nics[j].slot);
    }
  }
}

}  // namespace

TestEnd test_end_of(TestStatus status) {
  switch (status) {
    case TestStatus::passed: return TestEnd::passed;
    case TestStatus::skipped: return TestEnd::skipped;
    case TestStatus::failed: break;
  }
  return TestEnd::failed;
}

void SessionServer::require_greeted(const char* method) const {
  if (!progress_.greeted) throw_kj_error(fmt::format("{}: hello() must be the first call", method));
  if (progress_.finish_received) throw_kj_error(fmt::format("{}: finish() was already called", method));
}

kj::Promise<void> SessionServer::hello(HelloContext context) {
  const std::uint32_t theirs = context.getParams().getRunnerVersion();
  if (progress_.greeted) throw_kj_error("hello: called twice");
  if (theirs != PROTOCOL_VERSION) {
    throw_kj_error(fmt::format("hello: runner protocol version {} does not match the supervisor's version {}; "
                                "install matching provium and provium-runner binaries",
                                theirs, PROTOCOL_VERSION));
  }
  progress_.greeted = true;
  auto results = context.getResults();
  results.setSupervisorVersion(PROTOCOL_VERSION);
  auto job = results.initJob();
  job.setDisplayPath(job_.display_path);
  job.setChunkName("@" + job_.display_path);
  job.setSource(as_data(job_.source));
  fill_filter(job.initFilter(), job_.selection);
  job.setTestHooks(job_.test_hooks);
  job.setFixture(job_.fixture);
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::loadModule(LoadModuleContext context) {
  require_greeted("loadModule");
  const std::string name = text_of(context.getParams().getName());
  try {
    const ResolvedModule module = resolve_module(name, job_.module_roots);
    auto results = context.getResults();
    results.setChunkName("@" + display_path(module.path, job_.cwd));
    results.setSource(as_data(module.source));
  } catch (const ModuleError& error) {
    throw_kj_error(error.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::createVm(CreateVmContext context) {
  require_greeted("createVm");
  const auto params = context.getParams();
  const std::string name = text_of(params.getName());
  const std::string profile = text_of(params.getProfile());
  if (!valid_vm_name(name)) {
    throw_kj_error(fmt::format("createVm: bad VM name `{}`: use 1 to {} of [A-Za-z0-9_.-]", name.substr(0, 80),
                                kMaxVmNameLength));
  }
  const Profile* found = services_.config.find_profile(profile);
  if (!found) {
    throw_kj_error(fmt::format("createVm `{}`: unknown profile `{}`; known profiles: {}", name, profile.substr(0, 80),
                                services_.config.profile_names()));
  }
  if (found->unavailable) throw_kj_error(fmt::format("createVm `{}`: {}", name, *found->unavailable));
  try {
    VmRequest request = read_vm_request(params.getOptions(), services_.host_cpus);
    auto slot = fleet_.add(name, profile, std::move(request));
    slot->on_release = [network = &network_](VmSlot& released) { network->release(released); };
    auto results = context.getResults();
    results.setVm(vm_servers_.add(kj::heap<VmServer>(kj::mv(slot), services_, job_.host_files, network_, snapshots_)));
    results.setDefaultMemoryBytes(found->memory_bytes);
    results.setDefaultCpus(found->cpus);
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("createVm `{}`: {}", name, error.what()));
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::createBridge(CreateBridgeContext context) {
  require_greeted("createBridge");
  const std::string name = text_of(context.getParams().getName()).substr(0, 256);
  try {
    network_.declare_bridge(name);
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("createBridge `{}`: {}", name.substr(0, 80), error.what()));
  }
  context.getResults().setBridge(kj::heap<BridgeServer>(name, network_, vm_servers_));
  context.getResults().setDatapath(network_.datapath());
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::snapshotInfo(SnapshotInfoContext context) {
  require_greeted("snapshotInfo");
  const std::string requested = text_of(context.getParams().getPath());
  try {
    const std::filesystem::path path = snapshots_.resolve(requested);
    struct stat st {};
    const bool present = ::lstat(path.c_str(), &st) == 0;
    std::uint64_t size = 0;
    if (present && S_ISREG(st.st_mode)) size = static_cast<std::uint64_t>(st.st_size);
    // A lab snapshot: its files, one level deep.
    if (present && S_ISDIR(st.st_mode)) size = lab_snapshot_bytes(path);
    const bool exists = present && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
    context.getResults().setExists(exists);
    context.getResults().setSize(size);
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("snapshot:size: {}", error.what()));
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::deleteSnapshot(DeleteSnapshotContext context) {
  require_greeted("deleteSnapshot");
  const std::string requested = text_of(context.getParams().getPath());
  try {
    const std::filesystem::path path = snapshots_.resolve(requested);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      remove_lab_snapshot(path);
    } else if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode)) throw std::runtime_error(path.string() + " is not a snapshot file");
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw std::runtime_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
      }
    }
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("snapshot:delete: {}", error.what()));
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::vmFixture(VmFixtureContext context) {
  require_greeted("vmFixture");
  const std::string name = text_of(context.getParams().getName()).substr(0, 256);
  if (fixtures_ == nullptr) throw_kj_error(fmt::format("vm_fixture `{}`: this run has no fixture cache", name));
  return fixtures_->fixture(name, job_.module_roots, FixtureKind::vm)
      .then([this, name, context](ProvidedFixture provided) mutable {
        const std::filesystem::path& entry = provided.entry;
        OwnedFd ram(::open(entry.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!ram.valid()) throw_kj_error(fmt::format("vm_fixture `{}`: {}: {}", name, entry.string(), std::strerror(errno)));
        SnapshotInfo info;
        kj::Own<VmServer> server;
        try {
          info = read_snapshot_file(ram.get(), entry.string());
          if (!services_.config.find_profile(info.profile)) {
            throw std::runtime_error(fmt::format("its VM uses profile `{}`, which is not configured", info.profile));
          }
          auto slot = fleet_.add(info.vm, info.profile, VmRequest{});
          slot->on_release = [network = &network_](VmSlot& released) { network->release(released); };
          server = kj::heap<VmServer>(kj::mv(slot), services_, job_.host_files, network_, snapshots_);
        } catch (const std::exception& error) {
          throw_kj_error(fmt::format("vm_fixture `{}`: {}", name, error.what()));
        }
        VmServer& vm = *server;
        auto client = vm_servers_.add(kj::mv(server));
        auto results = context.getResults();
        results.setVm(client);
        results.setVmName(info.vm);
        results.setProfile(info.profile);
        return vm.restore_from(entry, std::move(ram), info)
            .then([this, context, provided](VmServer::Restored restored) mutable {
              fill_restore_results(restored, context.getResults());
              // Only once the restore worked: a damaged entry became a build instead.
              if (provided.from_cache) emit(services_.events, events::fixture_cache_hit(provided.name));
            });
      });
}

kj::Promise<void> SessionServer::claim(ClaimContext context) {
  require_greeted("claim");
  if (progress_.claim) throw_kj_error("claim: this file already made its claim");
  if (progress_.running) throw_kj_error("claim: a claim covers the whole file; it cannot be made while a test runs");
  const auto amount = context.getParams().getAmount();
  ResourceAmount claimed;
  if (amount.getHasMemoryBytes()) {
    if (amount.getMemoryBytes() > kMaxClaimMemoryBytes) {
      throw_kj_error(fmt::format("claim: memory of {} bytes is more than the {} bytes any claim may name",
                                 amount.getMemoryBytes(), kMaxClaimMemoryBytes));
    }
    claimed.memory_bytes = amount.getMemoryBytes();
  }
  if (amount.getHasCpus()) {
    if (amount.getCpus() > kMaxClaimCpus) {
      throw_kj_error(fmt::format("claim: {} CPUs is more than the {} any claim may name", amount.getCpus(), kMaxClaimCpus));
    }
    claimed.cpus = amount.getCpus();
  }
  progress_.claim = claimed;
  // Claim events are about test files; a fixture build's claim only limits its own boots.
  if (!job_.fixture) emit(services_.events, events::claim_acquired(job_.display_path, claimed));
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::createLabSnapshot(CreateLabSnapshotContext context) {
  require_greeted("createLabSnapshot");
  const std::string requested = text_of(context.getParams().getPath());
  try {
    context.getResults().setPath(snapshots_.create_directory(requested).string());
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("lab snapshot: {}", error.what()));
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::writeLabIndex(WriteLabIndexContext context) {
  require_greeted("writeLabIndex");
  const auto params = context.getParams();
  const std::string requested = text_of(params.getPath());
  try {
    // Only in snapshot_dir: a directory allowed for reading is not written.
    const std::filesystem::path directory = snapshots_.resolve(requested);
    if (!std::filesystem::is_directory(std::filesystem::symlink_status(directory))) {
      throw std::runtime_error("it is not a lab snapshot directory made by createLabSnapshot");
    }
    LabIndex index = lab_index_from_wire(params.getIndex());
    check_lab_index(index);
    for (const auto& vm : index.vms) {
      if (vm.file.empty()) continue;
      OwnedFd fd(::open((directory / vm.file).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) throw std::runtime_error(fmt::format("VM `{}`: no snapshot file {}", vm.name, vm.file));
      read_snapshot_file(fd.get(), (directory / vm.file).string());
    }
    write_lab_index(directory, index);
    remove_unlisted_snapshots(directory, index);
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("lab snapshot {}: {}", requested.substr(0, 256), error.what()));
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::readLabIndex(ReadLabIndexContext context) {
  require_greeted("readLabIndex");
  const std::string requested = text_of(context.getParams().getPath());
  try {
    const std::filesystem::path directory = snapshots_.existing_directory(requested);
    const LabIndex index = read_lab_index(directory);
    auto results = context.getResults();
    results.setPath(directory.string());
    lab_index_to_wire(index, results.initIndex());
  } catch (const std::exception& error) {
    throw_kj_error(fmt::format("lab snapshot {}: {}", requested.substr(0, 256), error.what()));
  }
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::labFixture(LabFixtureContext context) {
  require_greeted("labFixture");
  const std::string name = text_of(context.getParams().getName()).substr(0, 256);
  if (fixtures_ == nullptr) throw_kj_error(fmt::format("lab_fixture `{}`: this run has no fixture cache", name));
  return fixtures_->fixture(name, job_.module_roots, FixtureKind::lab)
      .then([this, name, context](ProvidedFixture provided) mutable {
        const std::filesystem::path& entry = provided.entry;
        try {
          const LabIndex index = read_lab_index(entry);
          snapshots_.allow_reading(entry);
          auto results = context.getResults();
          results.setPath(entry.string());
          lab_index_to_wire(index, results.initIndex());
        } catch (const std::exception& error) {
          throw_kj_error(fmt::format("lab_fixture `{}`: {}", name, error.what()));
        }
        // The runner restores a lab's VMs itself (Vm.restore): the hit is the checked entry handed over.
        if (provided.from_cache) emit(services_.events, events::fixture_cache_hit(provided.name));
      });
}

kj::Promise<void> SessionServer::testStarted(TestStartedContext context) {
  require_greeted("testStarted");
  progress_.running = capped_text(context.getParams().getName(), kMaxTestNameBytes);
  progress_.running_since = std::chrono::steady_clock::now();
  emit(services_.events, events::test_started(job_.display_path, *progress_.running));
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::testFinished(TestFinishedContext context) {
  require_greeted("testFinished");
  if (progress_.finished.size() >= kMaxTestsPerFile) {
    throw_kj_error(fmt::format("testFinished: more than {} tests in one file", kMaxTestsPerFile));
  }
  TestResult result = read_test_outcome(context.getParams().getOutcome());
  if (progress_.running == result.name) {
    progress_.running.reset();
  } else {
    // Skipped tests, and failures around a test that never started, end without a start.
    emit(services_.events, events::test_started(job_.display_path, result.name));
  }
  emit(services_.events, events::test_ended(job_.display_path, result.name, test_end_of(result.status),
                                            result.message, result.duration));
  progress_.finished.push_back(std::move(result));
  return kj::READY_NOW;
}

kj::Promise<void> SessionServer::finish(FinishContext context) {
  require_greeted("finish");
  const auto outcome = context.getParams().getOutcome();
  try {
    progress_.final_tests = read_test_outcomes(outcome.getTests());
  } catch (const OutcomeError& error) {
    throw_kj_error(fmt::format("finish: {}", error.what()));
  }
  if (outcome.getHasChunkError()) progress_.chunk_error = capped_text(outcome.getChunkError(), kMaxMessageBytes);
  if (job_.fixture && outcome.getFixtureSnapshot().size() > 0) {
    progress_.fixture_snapshot = capped_text(outcome.getFixtureSnapshot(), 4096);
  }
  progress_.running.reset();
  progress_.finish_received = true;
  if (on_finish_) on_finish_();
  return kj::READY_NOW;
}

}  // namespace provium
