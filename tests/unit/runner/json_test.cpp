// json.encode / json.decode per docs/reference/json.
#include "lua_test_helpers.h"

#include <gtest/gtest.h>

namespace provium::runner::testing {
namespace {

TEST(Json, EncodesTheDocumentedExamples) {
  EXPECT_TRUE(all_passed(run_lua_file(R"lua(
test("doc examples", function(t)
  t:assert_eq(json.encode({a = 1, b = "x"}), '{"a":1,"b":"x"}')
  t:assert_eq(json.encode({10, 20, 30}), '[10,20,30]')
  t:assert_eq(json.encode(true), 'true')
  t:assert_eq(json.encode(nil), 'null')
  t:assert_eq(json.encode({a = 1, b = nil}), '{"a":1}')
  t:assert_eq(json.encode({[1] = 1, [3] = 3}), '[1,null,3]')
end)
test("mixed tables are objects with stringified keys", function(t)
  t:assert_eq(json.encode({1, 2, name = "x"}), '{"1":1,"2":2,"name":"x"}')
end)
test("numbers", function(t)
  t:assert_eq(json.encode(1.5), '1.5')
  t:assert_eq(json.encode(1.0), '1.0')
  t:assert_eq(json.encode(-7), '-7')
  t:assert_eq(json.encode(math.maxinteger), '9223372036854775807')
  t:assert_eq(json.encode(0/0), 'null')
end)
test("strings are escaped", function(t)
  t:assert_eq(json.encode('a"b\\c\n\t\1'), '"a\\"b\\\\c\\n\\t\\u0001"')
  t:assert_eq(json.encode("héllo"), '"héllo"')
end)
test("nested", function(t)
  t:assert_eq(json.encode({a = {b = {"c", "d"}}, e = {}}), '{"a":{"b":["c","d"]},"e":{}}')
end)
)lua")));
}

TEST(Json, EncodingErrors) {
  const FileOutcome file = run_lua_file(R"lua(
test("cycle", function(t) local a = {} a.self = a json.encode(a) end)
test("function", function(t) json.encode({f = print}) end)
test("bad key", function(t) json.encode({[true] = 1}) end)
test("invalid utf8", function(t) json.encode("\255") end)
test("too sparse", function(t) json.encode({[1] = 1, [1e9] = 2}) end)
)lua");
  EXPECT_NE(outcome_named(file, "cycle").message.find("json.encode: cannot encode a cycle"), std::string::npos);
  EXPECT_NE(outcome_named(file, "function").message.find("cannot encode a function value"), std::string::npos);
  EXPECT_NE(outcome_named(file, "bad key").message.find("cannot use a boolean as an object key"), std::string::npos);
  EXPECT_NE(outcome_named(file, "invalid utf8").message.find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(outcome_named(file, "too sparse").message.find("too sparse"), std::string::npos);
}

TEST(Json, DecodesValuesAndKeepsIntegerPrecision) {
  EXPECT_TRUE(all_passed(run_lua_file(R"lua(
test("doc examples", function(t)
  t:assert_eq(json.decode('{"x": 42}').x, 42)
  t:assert_eq(json.decode('{"a": {"b": ["c", "d"]}}').a.b[2], "d")
end)
test("integers", function(t)
  t:assert_eq(math.type(json.decode("42")), "integer")
  t:assert_eq(json.decode("9223372036854775807"), math.maxinteger)
  t:assert_eq(json.decode("-9223372036854775808"), math.mininteger)
  t:assert_eq(json.decode("18446744073709551615"), -1)
  t:assert_eq(json.decode("18446744073709551615"), tonumber("0xFFFFFFFFFFFFFFFF"))
  t:assert_eq(math.type(json.decode("18446744073709551616")), "float")
end)
test("floats", function(t)
  t:assert_eq(json.decode("3.14"), 3.14)
  t:assert_eq(math.type(json.decode("1e10")), "float")
  t:assert_eq(json.decode("-0.5e-1"), -0.05)
end)
test("null handling", function(t)
  t:assert_eq(json.decode("null"), nil)
  local object = json.decode('{"k": null, "j": 1}')
  t:assert_eq(object.k, nil)
  t:assert_eq(next(object), "j")
  local array = json.decode("[1, null, 3]")
  t:assert_eq(array[1], 1)
  t:assert_eq(array[2], nil)
  t:assert_eq(array[3], 3)
end)
test("strings", function(t)
  t:assert_eq(json.decode('"a\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00"'), 'a"b\\c/\né😀')
  t:assert_eq(json.decode('  "x"  '), "x")
end)
test("round trip", function(t)
  local value = {name = "vm", cpus = 2, ratio = 0.25, flags = {true, false}, nested = {deep = {1, 2, 3}}}
  t:assert_eq(json.encode(json.decode(json.encode(value))), json.encode(value))
end)
)lua")));
}

TEST(Json, DecodingErrorsCarryThePosition) {
  const FileOutcome file = run_lua_file(R"lua(
test("trailing", function(t) json.decode('{"a": 1} x') end)
test("second line", function(t) json.decode('{\n  "a": }') end)
test("unterminated", function(t) json.decode('"abc') end)
test("empty", function(t) json.decode('') end)
test("lone surrogate", function(t) json.decode('"\\ud800"') end)
test("not a string", function(t) json.decode(42) end)
test("too deep", function(t) json.decode(string.rep("[", 1000)) end)
)lua");
  EXPECT_NE(outcome_named(file, "trailing").message.find("json.decode: trailing characters after the value at line 1 column 10"),
            std::string::npos) << outcome_named(file, "trailing").message;
  EXPECT_NE(outcome_named(file, "second line").message.find("expected a value at line 2 column 8"), std::string::npos)
      << outcome_named(file, "second line").message;
  EXPECT_NE(outcome_named(file, "unterminated").message.find("unexpected end of input in a string"), std::string::npos);
  EXPECT_NE(outcome_named(file, "empty").message.find("unexpected end of input, expected a value at line 1 column 1"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "lone surrogate").message.find("lone high surrogate"), std::string::npos);
  EXPECT_NE(outcome_named(file, "not a string").message.find("json.decode: expected a string, got number"),
            std::string::npos);
  EXPECT_NE(outcome_named(file, "too deep").message.find("nesting deeper than 500 levels"), std::string::npos);
}

}  // namespace
}  // namespace provium::runner::testing
