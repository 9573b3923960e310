// Pins the shape of both wire contracts. A canonical text of each schema
// (every struct, enum and interface reachable from its roots: node ids, field
// names, ordinals, union tags, types, defaults) plus its protocolVersion is
// compared with a checked-in expectation. Any change to ipc/agent.capnp or
// ipc/runner.capnp fails here until protocolVersion is bumped and the pin is
// regenerated, so the wire never changes by accident.
//
// Regenerate (after bumping protocolVersion):
//   PROVIUM_UPDATE_PINS=1 build/tests/unit/agent/protocol-pin-tests
#include "agent.capnp.h"
#include "runner.capnp.h"

#include <gtest/gtest.h>

#include <capnp/schema.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifndef PROVIUM_PIN_DIR
#error "PROVIUM_PIN_DIR must name the directory holding the .pin files"
#endif

namespace {

namespace agent_wire = provium::wire::agent;
namespace runner_wire = provium::wire::runner;

std::string hex_id(std::uint64_t id) {
  std::ostringstream out;
  out << "@0x" << std::hex << id;
  return out.str();
}

// Collects the nodes reachable from some roots and prints them in a fixed
// order (by display name), so the text changes exactly when the shape does.
class SchemaPrinter {
 public:
  void add(capnp::Schema schema) {
    const std::string name = schema.getProto().getDisplayName().cStr();
    if (!nodes_.emplace(name, schema).second) return;
    if (schema.getProto().isStruct()) {
      for (auto field : schema.asStruct().getFields()) {
        if (field.getProto().isGroup()) {
          add(field.getType().asStruct());
        } else {
          add_type(field.getType());
        }
      }
    } else if (schema.getProto().isInterface()) {
      for (auto method : schema.asInterface().getMethods()) {
        add(method.getParamType());
        add(method.getResultType());
      }
    }
  }

  std::string print() const {
    std::ostringstream out;
    for (const auto& [name, schema] : nodes_) print_node(out, name, schema);
    return out.str();
  }

 private:
  void add_type(capnp::Type type) {
    if (type.isStruct()) add(type.asStruct());
    if (type.isEnum()) add(type.asEnum());
    if (type.isInterface()) add(type.asInterface());
    if (type.isList()) add_type(type.asList().getElementType());
  }

  static std::string type_name(capnp::Type type) {
    switch (type.which()) {
      case capnp::schema::Type::VOID: return "Void";
      case capnp::schema::Type::BOOL: return "Bool";
      case capnp::schema::Type::INT8: return "Int8";
      case capnp::schema::Type::INT16: return "Int16";
      case capnp::schema::Type::INT32: return "Int32";
      case capnp::schema::Type::INT64: return "Int64";
      case capnp::schema::Type::UINT8: return "UInt8";
      case capnp::schema::Type::UINT16: return "UInt16";
      case capnp::schema::Type::UINT32: return "UInt32";
      case capnp::schema::Type::UINT64: return "UInt64";
      case capnp::schema::Type::FLOAT32: return "Float32";
      case capnp::schema::Type::FLOAT64: return "Float64";
      case capnp::schema::Type::TEXT: return "Text";
      case capnp::schema::Type::DATA: return "Data";
      case capnp::schema::Type::LIST: return "List(" + type_name(type.asList().getElementType()) + ")";
      case capnp::schema::Type::ENUM: return type.asEnum().getProto().getDisplayName().cStr();
      case capnp::schema::Type::STRUCT: return type.asStruct().getProto().getDisplayName().cStr();
      case capnp::schema::Type::INTERFACE: return type.asInterface().getProto().getDisplayName().cStr();
      case capnp::schema::Type::ANY_POINTER: return "AnyPointer";
    }
    return "?";
  }

  static std::string default_value(capnp::schema::Value::Reader value) {
    switch (value.which()) {
      case capnp::schema::Value::BOOL: return value.getBool() ? "true" : "";
      case capnp::schema::Value::INT8: return value.getInt8() ? std::to_string(value.getInt8()) : "";
      case capnp::schema::Value::INT16: return value.getInt16() ? std::to_string(value.getInt16()) : "";
      case capnp::schema::Value::INT32: return value.getInt32() ? std::to_string(value.getInt32()) : "";
      case capnp::schema::Value::INT64: return value.getInt64() ? std::to_string(value.getInt64()) : "";
      case capnp::schema::Value::UINT8: return value.getUint8() ? std::to_string(value.getUint8()) : "";
      case capnp::schema::Value::UINT16: return value.getUint16() ? std::to_string(value.getUint16()) : "";
      case capnp::schema::Value::UINT32: return value.getUint32() ? std::to_string(value.getUint32()) : "";
      case capnp::schema::Value::UINT64: return value.getUint64() ? std::to_string(value.getUint64()) : "";
      case capnp::schema::Value::FLOAT32: return value.getFloat32() != 0 ? std::to_string(value.getFloat32()) : "";
      case capnp::schema::Value::FLOAT64: return value.getFloat64() != 0 ? std::to_string(value.getFloat64()) : "";
      case capnp::schema::Value::ENUM: return value.getEnum() ? std::to_string(value.getEnum()) : "";
      case capnp::schema::Value::TEXT: return value.hasText() ? "\"" + std::string(value.getText().cStr()) + "\"" : "";
      case capnp::schema::Value::DATA:
        return value.hasData() ? "(" + std::to_string(value.getData().size()) + " bytes)" : "";
      case capnp::schema::Value::LIST: return value.hasList() ? "(a list)" : "";
      case capnp::schema::Value::STRUCT: return value.hasStruct() ? "(a struct)" : "";
      case capnp::schema::Value::ANY_POINTER: return value.hasAnyPointer() ? "(a pointer)" : "";
      case capnp::schema::Value::VOID:
      case capnp::schema::Value::INTERFACE: return "";
    }
    return "(unknown default)";
  }

  static void print_node(std::ostringstream& out, const std::string& name, capnp::Schema schema) {
    auto proto = schema.getProto();
    if (proto.isStruct()) {
      out << "struct " << name << " " << hex_id(proto.getId()) << " (data " << proto.getStruct().getDataWordCount()
          << " words, " << proto.getStruct().getPointerCount() << " pointers, union of "
          << proto.getStruct().getDiscriminantCount() << ")\n";
      for (auto field : schema.asStruct().getFields()) {
        auto field_proto = field.getProto();
        out << "  " << field_proto.getName().cStr();
        if (field_proto.getOrdinal().isExplicit()) out << " @" << field_proto.getOrdinal().getExplicit();
        if (field_proto.getDiscriminantValue() != capnp::schema::Field::NO_DISCRIMINANT) {
          out << " [union tag " << field_proto.getDiscriminantValue() << "]";
        }
        if (field_proto.isGroup()) {
          out << " :group " << field.getType().asStruct().getProto().getDisplayName().cStr() << "\n";
          continue;
        }
        out << " :" << type_name(field.getType()) << " (offset " << field_proto.getSlot().getOffset() << ")";
        const std::string fallback = default_value(field_proto.getSlot().getDefaultValue());
        if (!fallback.empty()) out << " = " << fallback;
        out << "\n";
      }
    } else if (proto.isEnum()) {
      out << "enum " << name << " " << hex_id(proto.getId()) << "\n";
      for (auto enumerant : schema.asEnum().getEnumerants()) {
        out << "  " << enumerant.getProto().getName().cStr() << " @" << enumerant.getOrdinal() << "\n";
      }
    } else if (proto.isInterface()) {
      out << "interface " << name << " " << hex_id(proto.getId()) << "\n";
      for (auto method : schema.asInterface().getMethods()) {
        out << "  " << method.getProto().getName().cStr() << " @" << method.getOrdinal() << " ("
            << method.getParamType().getProto().getDisplayName().cStr() << ") -> ("
            << method.getResultType().getProto().getDisplayName().cStr() << ")\n";
      }
    }
  }

  std::map<std::string, capnp::Schema> nodes_;
};

struct Pin {
  std::string schema_file;  // for messages, e.g. ipc/agent.capnp
  std::string pin_file;     // under PROVIUM_PIN_DIR
  std::uint32_t version;
  std::string text;         // the whole canonical text, version line first
};

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// The protocolVersion a pin text records, or -1.
long pinned_version(const std::string& text) {
  const std::string key = "protocolVersion ";
  const auto at = text.find("\n" + key);
  if (at == std::string::npos) return -1;
  return std::strtol(text.c_str() + at + 1 + key.size(), nullptr, 10);
}

std::string without_version(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("protocolVersion ", 0) != 0) out += line + "\n";
  }
  return out;
}

// Lines only in one of the two texts, marked - (pinned) and + (now).
std::string line_diff(const std::string& pinned, const std::string& now) {
  auto lines = [](const std::string& text) {
    std::multiset<std::string> set;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) set.insert(line);
    return set;
  };
  const auto old_lines = lines(pinned);
  const auto new_lines = lines(now);
  std::string diff;
  int shown = 0;
  for (const auto& line : old_lines) {
    if (!new_lines.contains(line) && shown++ < 30) diff += "  - " + line + "\n";
  }
  for (const auto& line : new_lines) {
    if (!old_lines.contains(line) && shown++ < 60) diff += "  + " + line + "\n";
  }
  return diff;
}

void check_pin(const Pin& pin) {
  const std::string path = std::string(PROVIUM_PIN_DIR) + "/" + pin.pin_file;
  const std::string pinned = read_file(path);
  if (pinned == pin.text) return;
  const long old_version = pinned_version(pinned);
  const bool shape_changed = without_version(pinned) != without_version(pin.text);
  const bool version_moved = old_version != static_cast<long>(pin.version);

  if (std::getenv("PROVIUM_UPDATE_PINS") != nullptr) {
    if (!pinned.empty() && shape_changed && !version_moved) {
      FAIL() << pin.schema_file << " changed shape but protocolVersion is still " << pin.version
             << ": bump it first, then regenerate " << pin.pin_file;
    }
    std::ofstream(path, std::ios::trunc) << pin.text;
    std::cout << "updated " << path << std::endl;
    return;
  }
  std::ostringstream message;
  if (pinned.empty()) {
    message << "no pin at " << path << "; create it with PROVIUM_UPDATE_PINS=1";
  } else if (shape_changed && !version_moved) {
    message << pin.schema_file << " changed its wire shape without a protocol version bump.\n"
            << "Bump protocolVersion (now " << pin.version << ") in " << pin.schema_file << ", then update "
            << "tests/unit/agent/" << pin.pin_file << " by running this test with PROVIUM_UPDATE_PINS=1.\n"
            << "Changed lines:\n" << line_diff(pinned, pin.text);
  } else {
    message << "protocolVersion of " << pin.schema_file << " moved from " << old_version << " to " << pin.version
            << "; update tests/unit/agent/" << pin.pin_file << " by running this test with PROVIUM_UPDATE_PINS=1.\n"
            << "Changed lines:\n" << line_diff(pinned, pin.text);
  }
  FAIL() << message.str();
}

std::string header(const char* schema_file, std::uint32_t version) {
  return std::string("# Pinned wire shape of ") + schema_file +
         " (see tests/unit/agent/protocol_pin_test.cpp). Generated; do not edit.\n" +
         "protocolVersion " + std::to_string(version) + "\n";
}

TEST(ProtocolPin, AgentSchemaMatchesItsPin) {
  SchemaPrinter printer;
  printer.add(capnp::Schema::from<agent_wire::Request>());
  printer.add(capnp::Schema::from<agent_wire::Response>());
  std::ostringstream constants;
  constants << "const openRead = " << agent_wire::OPEN_READ << "\n"
            << "const openWrite = " << agent_wire::OPEN_WRITE << "\n"
            << "const openCreate = " << agent_wire::OPEN_CREATE << "\n"
            << "const openTruncate = " << agent_wire::OPEN_TRUNCATE << "\n"
            << "const openAppend = " << agent_wire::OPEN_APPEND << "\n"
            << "const openExclusive = " << agent_wire::OPEN_EXCLUSIVE << "\n";
  check_pin({"ipc/agent.capnp", "agent_schema.pin", agent_wire::PROTOCOL_VERSION,
             header("ipc/agent.capnp", agent_wire::PROTOCOL_VERSION) + constants.str() + printer.print()});
}

TEST(ProtocolPin, RunnerSchemaMatchesItsPin) {
  SchemaPrinter printer;
  printer.add(capnp::Schema::from<runner_wire::Session>());
  check_pin({"ipc/runner.capnp", "runner_schema.pin", runner_wire::PROTOCOL_VERSION,
             header("ipc/runner.capnp", runner_wire::PROTOCOL_VERSION) + printer.print()});
}

// The pin machinery itself: a changed shape is caught.
TEST(ProtocolPin, ADifferentShapeIsNoticed) {
  SchemaPrinter agent;
  agent.add(capnp::Schema::from<agent_wire::Request>());
  SchemaPrinter smaller;
  smaller.add(capnp::Schema::from<agent_wire::RunRequest>());
  EXPECT_NE(agent.print(), smaller.print());
  EXPECT_NE(agent.print().find("  syscall @18 [union tag 17] :agent.capnp:SyscallRequest (offset 0)\n"), std::string::npos)
      << agent.print();
  EXPECT_EQ(pinned_version("# x\nprotocolVersion 7\n"), 7);
}

}  // namespace
