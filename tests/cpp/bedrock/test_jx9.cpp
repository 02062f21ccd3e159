// kinako's Jx9 interpreter (src/bedrock/jx9/): every construct, the built-ins, error messages
// with line:column, the step / recursion / nesting limits, and a realistic Bedrock config script.
#include "jx9/jx9.hpp"
#include "expr.hpp"

#include <mochi/bedrock/component.hpp>
#include <mochi/bedrock/server.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <thread>

using nlohmann::json;
namespace jx9 = kinako::bedrock::jx9;

namespace {

json run(const std::string& script, const json& vars = json::object()) { return jx9::run(script, vars); }

// The message of the exception the script throws ("" when it does not throw).
std::string error_of(const std::string& script, const json& vars = json::object(), jx9::Options o = jx9::Options()) {
    try {
        jx9::run(script, vars, o);
    } catch (const mochi::bedrock::Exception& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_HAS(text, piece) EXPECT_NE(std::string(text).find(piece), std::string::npos) << "message: " << (text)

}  // namespace

// ------------------------------------------------------------------ lexer and literals

TEST(Jx9Literals, NumbersStringsAndConstants) {
    EXPECT_EQ(run("return 42;"), 42);
    EXPECT_EQ(run("return 0x1F;"), 31);
    EXPECT_EQ(run("return 1.5e2;"), 150.0);
    EXPECT_EQ(run("return 2.25;"), 2.25);
    EXPECT_EQ(run("return true;"), true);
    EXPECT_EQ(run("return FALSE;"), false);
    EXPECT_EQ(run("return null;"), nullptr);
    EXPECT_EQ(run("return NULL;"), nullptr);
    EXPECT_EQ(run(R"(return "a\tb\n\"q\" \\ \$x \u00e9";)"), "a\tb\n\"q\" \\ $x \xc3\xa9");
    EXPECT_EQ(run(R"(return 'it\'s \n raw \\';)"), "it's \\n raw \\");
    EXPECT_EQ(run("return 99999999999999999999;").is_number_float(), true);  // too large for an int
}

TEST(Jx9Literals, Comments) {
    EXPECT_EQ(run("// line\n# hash\n/* block\n comment */ return /* inline */ 7; // after"), 7);
}

TEST(Jx9Literals, Interpolation) {
    json vars = {{"name", "db"}, {"cfg", {{"port", 1234}, {"list", {"a", "b"}}}}, {"i", 3}};
    EXPECT_EQ(run(R"(return "name=$name i=$i";)", vars), "name=db i=3");
    EXPECT_EQ(run(R"(return "port={$cfg.port} second={$cfg.list[1]} sum={$i + 1}";)", vars), "port=1234 second=b sum=4");
    EXPECT_EQ(run(R"(return "cost: \$5 and $ alone and {not $name}";)", vars), "cost: $5 and $ alone and {not db}");
    EXPECT_EQ(run(R"(return 'no $name here';)", vars), "no $name here");
    EXPECT_EQ(run(R"(return "$missing|";)", vars), "|");
}

TEST(Jx9Literals, ObjectsAndArrays) {
    EXPECT_EQ(run(R"(return {"a": 1, b: [1, "x", null], c: {d: true}, 5: "five",};)"),
              json::parse(R"({"a":1,"b":[1,"x",null],"c":{"d":true},"5":"five"})"));
    EXPECT_EQ(run("return [];"), json::array());
    EXPECT_EQ(run("return {};"), json::object());
    EXPECT_EQ(run("return [1, [2, [3]], ];"), json::parse("[1,[2,[3]]]"));
    EXPECT_EQ(run(R"(return ["k" => 1, "j" => [2]];)"), json::parse(R"({"k":1,"j":[2]})"));
    EXPECT_EQ(run(R"($k = "dyn"; return {$k: 1, "x$k": 2};)"), json::parse(R"({"dyn":1,"xdyn":2})"));
}

// ------------------------------------------------------------------ operators

TEST(Jx9Operators, Arithmetic) {
    EXPECT_EQ(run("return 1 + 2 * 3 - 4;"), 3);
    EXPECT_EQ(run("return (1 + 2) * 3;"), 9);
    EXPECT_EQ(run("return 7 / 2;"), 3.5);
    EXPECT_EQ(run("return 6 / 2;"), 3);
    EXPECT_TRUE(run("return 6 / 2;").is_number_integer());
    EXPECT_EQ(run("return 7 % 3;"), 1);
    EXPECT_EQ(run("return -7 % 3;"), -1);
    EXPECT_EQ(run("return -3 + 1;"), -2);
    EXPECT_EQ(run("return - -3;"), 3);
    EXPECT_EQ(run("return 1.5 + 1;"), 2.5);
    EXPECT_EQ(run("return \"3\" + 4;"), 7);
    EXPECT_EQ(run("return true + 1;"), 2);
    EXPECT_EQ(run("return 9223372036854775807 + 1;").is_number_float(), true);
    EXPECT_EQ(run("return [1, 2] + [7, 8, 9];"), json::parse("[1,2,9]"));
    EXPECT_EQ(run("return {a: 1} + {a: 2, b: 3};"), json::parse(R"({"a":1,"b":3})"));
    EXPECT_EQ(run("return +\"5\";"), 5);
}

TEST(Jx9Operators, ConcatAndStrings) {
    EXPECT_EQ(run(R"(return "a" .. "b" .. 1 .. true .. null .. 2.5;)"), "ab112.5");
    EXPECT_EQ(run(R"(return "n=" .. 1 + 2;)"), "n=3");  // '..' binds looser than + and -
    EXPECT_EQ(run(R"(return "a" .. 2 * 3 .. "b";)"), "a6b");
}

TEST(Jx9Operators, Comparisons) {
    EXPECT_EQ(run("return 1 == 1.0;"), true);
    EXPECT_EQ(run("return 1 === 1.0;"), false);
    EXPECT_EQ(run("return 1 === 1;"), true);
    EXPECT_EQ(run("return \"1\" == 1;"), true);
    EXPECT_EQ(run("return \"1\" === 1;"), false);
    EXPECT_EQ(run("return \"abc\" == 0;"), false);
    EXPECT_EQ(run("return null == false;"), true);
    EXPECT_EQ(run("return null == 0;"), true);
    EXPECT_EQ(run("return null === false;"), false);
    EXPECT_EQ(run("return [1, 2] == [1, 2];"), true);
    EXPECT_EQ(run("return {a: 1} == {a: \"1\"};"), true);
    EXPECT_EQ(run("return {a: 1} === {a: \"1\"};"), false);
    EXPECT_EQ(run("return 1 != 2;"), true);
    EXPECT_EQ(run("return 1 <> 1;"), false);
    EXPECT_EQ(run("return 1 !== \"1\";"), true);
    EXPECT_EQ(run("return 2 < 3 && 3 <= 3 && 4 > 3 && 4 >= 4;"), true);
    EXPECT_EQ(run("return \"apple\" < \"banana\";"), true);
    EXPECT_EQ(run("return \"10\" > \"9\";"), true);  // numeric strings compare as numbers
}

TEST(Jx9Operators, LogicAndTernary) {
    EXPECT_EQ(run("return true && false || true;"), true);
    EXPECT_EQ(run("return !true;"), false);
    EXPECT_EQ(run("return not false and true;"), true);
    EXPECT_EQ(run("return false or 0;"), false);
    EXPECT_EQ(run("return false && undefined_function();"), false);  // short-circuit
    EXPECT_EQ(run("return true || undefined_function();"), true);
    EXPECT_EQ(run("return 1 ? \"yes\" : \"no\";"), "yes");
    EXPECT_EQ(run("return 0 ? \"yes\" : (\"\" ? \"x\" : \"no\");"), "no");
    EXPECT_EQ(run("return null ?: \"default\";"), "default");
    EXPECT_EQ(run("return \"set\" ?: \"default\";"), "set");
    EXPECT_EQ(run("return [] ? 1 : 2;"), 2);
    EXPECT_EQ(run("return \"0\" ? 1 : 2;"), 2);
}

TEST(Jx9Operators, Casts) {
    EXPECT_EQ(run("return (int)\"12abc\";"), 12);
    EXPECT_EQ(run("return (float)\"2.5\";"), 2.5);
    EXPECT_EQ(run("return (string)12;"), "12");
    EXPECT_EQ(run("return (bool)\"0\";"), false);
    EXPECT_EQ(run("return (int)3.9;"), 3);
}

// ------------------------------------------------------------------ variables and members

TEST(Jx9Access, MembersAndIndexes) {
    json vars = {{"cfg", {{"providers", {{{"name", "db"}, {"provider_id", 3}}, {{"name", "blob"}}}}, {"n", 2}}},
                 {"arr", {10, 20, 30}}, {"s", "hello"}};
    EXPECT_EQ(run("return $cfg.providers[0].name;", vars), "db");
    EXPECT_EQ(run("return $cfg[\"providers\"][1][\"name\"];", vars), "blob");
    EXPECT_EQ(run("return $cfg.providers.1.name;", vars), "blob");
    EXPECT_EQ(run("return $arr[2];", vars), 30);
    EXPECT_EQ(run("return $arr[-1];", vars), 30);
    EXPECT_EQ(run("return $arr[\"1\"];", vars), 20);
    EXPECT_EQ(run("return $arr[5];", vars), nullptr);
    EXPECT_EQ(run("return $cfg.missing.deeper[3].x;", vars), nullptr);
    EXPECT_EQ(run("return $nothing;", vars), nullptr);
    EXPECT_EQ(run("return $s[1];", vars), "e");
    EXPECT_EQ(run("$k = \"n\"; return $cfg.$k;", vars), 2);
    EXPECT_EQ(run("return {a: {b: 5}}.a.b;", vars), 5);
    EXPECT_EQ(run("return [1, [2, 3]][1][0];", vars), 2);
}

TEST(Jx9Assign, SimpleAndCompound) {
    EXPECT_EQ(run("$a = 5; $a += 2; $a -= 1; $a *= 3; return $a;"), 18);
    EXPECT_EQ(run("$a = 7; $a /= 2; return $a;"), 3.5);
    EXPECT_EQ(run("$a = 7; $a %= 4; return $a;"), 3);
    EXPECT_EQ(run("$s = \"a\"; $s .= \"b\"; $s ..= 1; return $s;"), "ab1");
    EXPECT_EQ(run("$a = $b = 3; return [$a, $b];"), json::parse("[3,3]"));
    EXPECT_EQ(run("$x = 1; $y = ($x = 5) + 1; return [$x, $y];"), json::parse("[5,6]"));
}

TEST(Jx9Assign, MembersElementsAndAppend) {
    EXPECT_EQ(run("$a.b.c = 1; return $a;"), json::parse(R"({"b":{"c":1}})"));
    EXPECT_EQ(run("$a[\"k\"] = \"v\"; $a[\"n\"][\"m\"] = 2; return $a;"), json::parse(R"({"k":"v","n":{"m":2}})"));
    EXPECT_EQ(run("$l[] = 1; $l[] = 2; $l[0] = 0; return $l;"), json::parse("[0,2]"));
    EXPECT_EQ(run("$l = [1]; $l[3] = 4; return $l;"), json::parse("[1,null,null,4]"));
    EXPECT_EQ(run("$c = {providers: []}; $c.providers[] = {name: \"a\"}; $c.providers[0].id = 7; return $c;"),
              json::parse(R"({"providers":[{"id":7,"name":"a"}]})"));
    EXPECT_EQ(run("$l = [1, 2]; $l[\"x\"] = 3; return $l;"), json::parse(R"({"0":1,"1":2,"x":3})"));
    EXPECT_EQ(run("$o = {a: 1}; $o[] = 2; return $o;"), json::parse(R"({"a":1,"1":2})"));
    EXPECT_EQ(run("$m.list[] = \"x\"; $m.list[] = \"y\"; return $m;"), json::parse(R"({"list":["x","y"]})"));
    EXPECT_EQ(run("$a = [[1], [2]]; $a[1][] = 3; return $a;"), json::parse("[[1],[2,3]]"));
    EXPECT_EQ(run("$a = {x: 1}; $b = $a; $b.x = 2; return [$a.x, $b.x];"), json::parse("[1,2]"));  // values, not references
    EXPECT_EQ(run("$v = {a: 1, b: 2}; unset($v.a); $l = [1, 2, 3]; unset($l[0]); unset($zz); return [$v, $l];"),
              json::parse(R"([{"b":2},[2,3]])"));
}

TEST(Jx9Assign, IncrementDecrement) {
    EXPECT_EQ(run("$i = 1; $j = $i++; return [$i, $j];"), json::parse("[2,1]"));
    EXPECT_EQ(run("$i = 1; $j = ++$i; return [$i, $j];"), json::parse("[2,2]"));
    EXPECT_EQ(run("$i = 1; $j = $i--; $k = --$i; return [$i, $j, $k];"), json::parse("[-1,1,-1]"));
    EXPECT_EQ(run("$n++; return $n;"), 1);
    EXPECT_EQ(run("$c.count++; $c.count++; return $c;"), json::parse(R"({"count":2})"));
    EXPECT_EQ(run("$a = [5]; $a[0]++; return $a;"), json::parse("[6]"));
}

// ------------------------------------------------------------------ statements

TEST(Jx9Statements, IfElseChains) {
    const char* script = R"(
        function classify($n) {
            if ($n < 0) { return "negative"; }
            elseif ($n == 0) return "zero";
            else if ($n < 10) { return "small"; }
            else { return "large"; }
        }
        return [classify(-1), classify(0), classify(5), classify(50)];)";
    EXPECT_EQ(run(script), json::parse(R"(["negative","zero","small","large"])"));
    EXPECT_EQ(run("$x = 0; if (true) $x = 1; return $x;"), 1);
    EXPECT_EQ(run("$x = 0; if (false) $x = 1; return $x;"), 0);
}

TEST(Jx9Statements, Loops) {
    EXPECT_EQ(run("$i = 0; $s = 0; while ($i < 5) { $s += $i; $i++; } return $s;"), 10);
    EXPECT_EQ(run("$i = 10; do { $i++; } while ($i < 5); return $i;"), 11);
    EXPECT_EQ(run("$s = 0; for ($i = 0; $i < 4; $i++) $s += $i; return $s;"), 6);
    EXPECT_EQ(run("$s = []; for ($i = 0, $j = 10; $i < 3; $i++, $j--) { $s[] = $i .. \":\" .. $j; } return $s;"),
              json::parse(R"(["0:10","1:9","2:8"])"));
    EXPECT_EQ(run("$n = 0; for (;;) { if (++$n == 3) break; } return $n;"), 3);
    EXPECT_EQ(run("$s = 0; for ($i = 0; $i < 10; $i++) { if ($i % 2) continue; if ($i > 6) break; $s += $i; } return $s;"), 12);
    EXPECT_EQ(run("$s = 0; foreach ([1, 2, 3] as $v) { $s += $v; } return $s;"), 6);
    EXPECT_EQ(run("$o = []; foreach ([\"a\", \"b\"] as $k, $v) { $o[] = $k .. $v; } return $o;"), json::parse(R"(["0a","1b"])"));
    EXPECT_EQ(run("$o = []; foreach ({x: 1, y: 2} as $k => $v) { $o[] = $k .. \"=\" .. $v; } return $o;"),
              json::parse(R"(["x=1","y=2"])"));
    EXPECT_EQ(run("$n = 0; foreach ($missing as $v) { $n++; } return $n;"), 0);
    EXPECT_EQ(run("$l = [1, 2]; foreach ($l as $v) { $l[] = $v; } return $l;"), json::parse("[1,2,1,2]"));  // iterates a copy
    const char* nested = R"(
        $pairs = [];
        for ($i = 0; $i < 3; $i++) {
            foreach ([0, 1, 2] as $j) {
                if ($j == $i) continue;
                if ($j > 1) break;
                $pairs[] = [$i, $j];
            }
        }
        return $pairs;)";
    EXPECT_EQ(run(nested), json::parse("[[0,1],[1,0],[2,0],[2,1]]"));
}

TEST(Jx9Statements, Switch) {
    const char* script = R"(
        function kind($t) {
            $r = "";
            switch ($t) {
                case "yokan": case "warabi": $r = "storage"; break;
                case "flock": $r = "group";
                default: $r .= "!";
            }
            return $r;
        }
        return [kind("yokan"), kind("warabi"), kind("flock"), kind("x")];)";
    EXPECT_EQ(run(script), json::parse(R"(["storage","storage","group!","!"])"));
}

TEST(Jx9Statements, ReturnAndBlocks) {
    EXPECT_EQ(run("$a = 1;"), nullptr);  // no return: null
    EXPECT_EQ(run(""), nullptr);
    EXPECT_EQ(run("return;"), nullptr);
    EXPECT_EQ(run("{ { return 1; } } return 2;"), 1);
    EXPECT_EQ(run("for ($i = 0; ; $i++) { if ($i == 4) return $i; }"), 4);
    EXPECT_EQ(run("return 5"), 5);  // the last ';' may be left out
    EXPECT_EQ(run(";;; return 1;;"), 1);
}

TEST(Jx9Statements, Functions) {
    EXPECT_EQ(run("function fact($n) { if ($n <= 1) return 1; return $n * fact($n - 1); } return fact(10);"), 3628800);
    EXPECT_EQ(run("function fib($n) { return $n < 2 ? $n : fib($n - 1) + fib($n - 2); } return fib(15);"), 610);
    EXPECT_EQ(run("return twice(4); function twice($x) { return 2 * $x; }"), 8);  // hoisted
    EXPECT_EQ(run("function f($a, $b = 10) { return $a + $b; } return [f(1), f(1, 2)];"), json::parse("[11,3]"));
    EXPECT_EQ(run("$x = 1; function f() { $x = 2; return $x; } return [f(), $x];"), json::parse("[2,1]"));  // locals
    EXPECT_EQ(run("$g = 5; function f() { return $g; } return f();"), nullptr);  // script globals are not visible
    EXPECT_EQ(run("function f() { return $MPI_COMM_WORLD.rank; } return f();", {{"MPI_COMM_WORLD", {{"rank", 3}}}}),
              3);  // the given variables are
    EXPECT_EQ(run("function f() { } return f();"), nullptr);
}

TEST(Jx9Statements, EchoIsCapturedOrIgnored) {
    std::string out;
    jx9::Options o;
    o.output = &out;
    EXPECT_EQ(jx9::run("echo \"a\", 1; print \"b\\n\"; return 2;", json::object(), o), 2);
    EXPECT_EQ(out, "a1b\n");
    EXPECT_EQ(run("echo \"ignored\"; return 3;"), 3);
}

// ------------------------------------------------------------------ built-ins

TEST(Jx9Builtins, TypesAndConversions) {
    EXPECT_EQ(run("return [count([1,2,3]), sizeof({a:1}), count(null), count(\"x\")];"), json::parse("[3,1,0,1]"));
    EXPECT_EQ(run("return strlen(\"hello\");"), 5);
    EXPECT_EQ(run("return json_encode({a: [1, \"x\"]});"), R"({"a":[1,"x"]})");
    EXPECT_EQ(run("return json_decode('{\"a\": [1, 2]}');"), json::parse(R"({"a":[1,2]})"));
    EXPECT_EQ(run("return json_decode('not json');"), nullptr);
    EXPECT_EQ(run("return [is_array([]), is_array({}), is_object({}), is_object([])];"), json::parse("[true,false,true,false]"));
    EXPECT_EQ(run("return [is_string(\"\"), is_int(1), is_int(1.0), is_float(1.0), is_bool(false), is_null(null)];"),
              json::parse("[true,true,false,true,true,true]"));
    EXPECT_EQ(run("return [is_numeric(\"12.5\"), is_numeric(\"12a\"), is_numeric(3), is_numeric(null)];"),
              json::parse("[true,false,true,false]"));
    EXPECT_EQ(run("return [intval(\"42\"), intval(3.7), intval(\"x\"), intval(true)];"), json::parse("[42,3,0,1]"));
    EXPECT_EQ(run("return [floatval(\"1.5\"), strval(12), strval(1.5), strval(true), strval(null)];"),
              json::parse(R"([1.5,"12","1.5","1",""])"));
    EXPECT_EQ(run("return [gettype(1), gettype(\"\"), gettype([]), gettype({}), boolval(\"a\")];"),
              json::parse(R"(["int","string","array","object",true])"));
    json vars = {{"cfg", {{"a", {{"b", 1}}}}}};
    EXPECT_EQ(run("return [isset($cfg.a.b), isset($cfg.a.c), isset($nope), isset($cfg, $cfg.a)];", vars),
              json::parse("[true,false,false,true]"));
}

TEST(Jx9Builtins, Arrays) {
    EXPECT_EQ(run("return array_keys({b: 1, a: 2});"), json::parse(R"(["a","b"])"));
    EXPECT_EQ(run("return array_keys([5, 6]);"), json::parse("[0,1]"));
    EXPECT_EQ(run("return array_values({b: 1, a: 2});"), json::parse("[2,1]"));
    EXPECT_EQ(run("return [in_array(2, [1, 2]), in_array(\"2\", [1, 2]), in_array(\"2\", [1, 2], true)];"),
              json::parse("[true,true,false]"));
    EXPECT_EQ(run("return [array_key_exists(\"a\", {a: null}), key_exists(\"b\", {a: 1}), array_key_exists(1, [0, 0])];"),
              json::parse("[true,false,true]"));
    EXPECT_EQ(run("$l = [1]; $n = array_push($l, 2, 3); return [$n, $l];"), json::parse("[3,[1,2,3]]"));
    EXPECT_EQ(run("$c.list = []; array_push($c.list, \"x\"); return $c;"), json::parse(R"({"list":["x"]})"));
    EXPECT_EQ(run("$l = [1, 2, 3]; $v = array_pop($l); return [$v, $l];"), json::parse("[3,[1,2]]"));
    EXPECT_EQ(run("$l = []; return array_pop($l);"), nullptr);
    EXPECT_EQ(run("$l = [1, 2]; $v = array_shift($l); array_unshift($l, 0); return [$v, $l];"), json::parse("[1,[0,2]]"));
    EXPECT_EQ(run("return array_slice([1, 2, 3, 4], 1, 2);"), json::parse("[2,3]"));
    EXPECT_EQ(run("return array_slice([1, 2, 3, 4], -2);"), json::parse("[3,4]"));
    EXPECT_EQ(run("return array_merge([1], [2, 3], []);"), json::parse("[1,2,3]"));
    EXPECT_EQ(run("return array_merge({a: 1, b: 2}, {b: 3});"), json::parse(R"({"a":1,"b":3})"));
    EXPECT_EQ(run("return array_reverse([1, 2, 3]);"), json::parse("[3,2,1]"));
    EXPECT_EQ(run("return array_sum([1, 2, 3.5]);"), 6.5);
    EXPECT_EQ(run("$l = [3, 1, 2]; sort($l); $m = [3, 1, 2]; rsort($m); return [$l, $m];"), json::parse("[[1,2,3],[3,2,1]]"));
    EXPECT_EQ(run("return range(1, 4);"), json::parse("[1,2,3,4]"));
    EXPECT_EQ(run("return range(5, 1, 2);"), json::parse("[5,3,1]"));
    EXPECT_EQ(run("return range(0, 1, 0.5);"), json::parse("[0.0,0.5,1.0]"));
}

TEST(Jx9Builtins, Strings) {
    EXPECT_EQ(run("return [substr(\"abcdef\", 1, 3), substr(\"abcdef\", -2), substr(\"abc\", 5), substr(\"abcdef\", 1, -2)];"),
              json::parse(R"(["bcd","ef","","bcd"])"));
    EXPECT_EQ(run("return [strtoupper(\"aB\"), strtolower(\"aB\"), ucfirst(\"db\")];"), json::parse(R"(["AB","ab","Db"])"));
    EXPECT_EQ(run("return [trim(\"  x \"), ltrim(\"xxy\", \"x\"), rtrim(\"y \")];"), json::parse(R"(["x","y","y"])"));
    EXPECT_EQ(run("return implode(\",\", [1, \"a\", true]);"), "1,a,1");
    EXPECT_EQ(run("return join(\"-\", {a: 1, b: 2});"), "1-2");
    EXPECT_EQ(run("return explode(\",\", \"a,b,,c\");"), json::parse(R"(["a","b","","c"])"));
    EXPECT_EQ(run("return explode(\",\", \"a,b,c\", 2);"), json::parse(R"(["a","b,c"])"));
    EXPECT_EQ(run("return str_replace(\"a\", \"o\", \"banana\");"), "bonono");
    EXPECT_EQ(run("return str_replace([\"a\", \"n\"], [\"1\", \"2\"], \"banana\");"), "b12121");
    EXPECT_EQ(run("return str_repeat(\"ab\", 3);"), "ababab");
    EXPECT_EQ(run("return [strpos(\"hello\", \"l\"), strpos(\"hello\", \"z\")];"), json::parse("[2,false]"));
    EXPECT_EQ(run("return sprintf(\"%s-%d-%.2f-%5s-%-3s|-%05d-%x-%%\", \"db\", 42, 3.14159, \"r\", \"l\", 7, 255);"),
              "db-42-3.14-    r-l  |-00007-ff-%");
    EXPECT_EQ(run("return sprintf(\"provider_%d\", \"7\");"), "provider_7");
}

TEST(Jx9Builtins, Numbers) {
    EXPECT_EQ(run("return [min(3, 1, 2), max([3, 9, 2]), min([\"b\", \"a\"]), max(1, 2.5)];"), json::parse(R"([1,9,"a",2.5])"));
    EXPECT_EQ(run("return [abs(-3), abs(-2.5), abs(4)];"), json::parse("[3,2.5,4]"));
    EXPECT_EQ(run("return [round(2.5), round(1.234, 2), floor(1.7), ceil(1.2)];"), json::parse("[3.0,1.23,1.0,2.0]"));
    EXPECT_EQ(run("return [pow(2, 10), sqrt(16)];"), json::parse("[1024,4.0]"));
}

// ------------------------------------------------------------------ errors

TEST(Jx9Errors, SyntaxErrorsNameLineColumnAndToken) {
    auto e = error_of("$a = 1;\n$b = 2;\nif ($a > ) { }");
    EXPECT_HAS(e, "jx9:3:10:");
    EXPECT_HAS(e, "syntax error");
    EXPECT_HAS(e, "')'");
    e = error_of("return [1, 2;");
    EXPECT_HAS(e, "1:13:");
    EXPECT_HAS(e, "']'");
    e = error_of("$x = 1\n$y = 2;");
    EXPECT_HAS(e, "2:1:");
    EXPECT_HAS(e, "expected ';'");
    e = error_of("return \"unterminated;");
    EXPECT_HAS(e, "1:8:");
    EXPECT_HAS(e, "unterminated string");
    e = error_of("/* never closed");
    EXPECT_HAS(e, "1:1:");
    EXPECT_HAS(e, "unterminated /* comment");
    e = error_of("return 1 @ 2;");
    EXPECT_HAS(e, "1:10:");
    EXPECT_HAS(e, "'@'");
    e = error_of("  break;");
    EXPECT_HAS(e, "1:3:");
    EXPECT_HAS(e, "outside of a loop");
    e = error_of("return foo;");
    EXPECT_HAS(e, "1:8:");
    EXPECT_HAS(e, "'foo'");
    e = error_of("1 = 2;");
    EXPECT_HAS(e, "1:3:");
    EXPECT_HAS(e, "cannot assign");
    e = error_of("foreach ($l in $x) {}");
    EXPECT_HAS(e, "1:13:");
    EXPECT_HAS(e, "'as'");
    e = error_of("return \"x{$a +}\";");
    EXPECT_HAS(e, "1:15:");
    e = error_of("$", json::object());
    EXPECT_HAS(e, "1:1:");
    EXPECT_HAS(e, "variable name");
    jx9::Options o;
    o.source_name = "cfg.jx9";
    EXPECT_HAS(error_of("return (;", json::object(), o), "cfg.jx9:1:9: syntax error");
}

TEST(Jx9Errors, RuntimeErrorsNameLineColumnAndValue) {
    auto e = error_of("$a = 0;\nreturn 1 / $a;");
    EXPECT_HAS(e, "jx9:2:10: runtime error: division by zero");
    e = error_of("return 5 % 0;");
    EXPECT_HAS(e, "modulo by zero");
    e = error_of("return \"abc\" * 2;");
    EXPECT_HAS(e, "1:14:");
    EXPECT_HAS(e, "string \"abc\"");
    e = error_of("\n  return nope(1);");
    EXPECT_HAS(e, "2:10:");
    EXPECT_HAS(e, "undefined function nope()");
    e = error_of("return count();");
    EXPECT_HAS(e, "count() expects 1 to 2 arguments, got 0");
    e = error_of("return substr([1], 0);");
    EXPECT_HAS(e, "substr(): argument 1 must be a string, got array [1]");
    e = error_of("$s = \"str\"; $s.x = 1;");
    EXPECT_HAS(e, "1:15:");
    EXPECT_HAS(e, "cannot use string \"str\" as an array or an object");
    e = error_of("foreach (5 as $v) {}");
    EXPECT_HAS(e, "1:10:");
    EXPECT_HAS(e, "int 5");
    e = error_of("return [1] < {a: 1};");
    EXPECT_HAS(e, "cannot compare");
    e = error_of("function f($a, $b) { return 1; } return f(1);");
    EXPECT_HAS(e, "f() expects at least 2 arguments, got 1 (missing $b)");
    e = error_of("function count($x) { return 1; }");
    EXPECT_HAS(e, "cannot redefine the built-in function count()");
    e = error_of("function f() {} function f() {}");
    EXPECT_HAS(e, "1:17:");
    EXPECT_HAS(e, "already defined at 1:1");
    e = error_of("return $x[];");
    EXPECT_HAS(e, "'[]' can only be used to append");
    e = error_of("return sprintf(\"%d %d\", 1);");
    EXPECT_HAS(e, "too few arguments");
    e = error_of("return min([]);");
    EXPECT_HAS(e, "min(): needs at least one value");
    e = error_of("return range(1, 100000000);");
    EXPECT_HAS(e, "range(): would make");
    e = error_of("$l = []; $l[-1] = 1;");
    EXPECT_HAS(e, "negative index");
    e = error_of("return {a: 1}[[1]];");
    EXPECT_HAS(e, "cannot use array [1] as a key");
}

TEST(Jx9Errors, StepLimit) {
    auto e = error_of("$i = 0;\nwhile (true) { $i++; }");
    EXPECT_HAS(e, "runtime error: the script ran for more than 10000000 steps");
    jx9::Options o;
    o.max_steps = 1000;
    e = error_of("for ($i = 0; $i < 100000; $i++) {}", json::object(), o);
    EXPECT_HAS(e, "more than 1000 steps");
    e = error_of("function f() { while (1) {} } return f();", json::object(), o);
    EXPECT_HAS(e, "more than 1000 steps");
    // below the limit, loops run to the end
    EXPECT_EQ(run("$s = 0; for ($i = 0; $i < 100000; $i++) { $s += $i; } return $s;"), 4999950000LL);
}

TEST(Jx9Errors, RecursionLimit) {
    auto e = error_of("function f($n) { return f($n + 1); }\nreturn f(0);");
    EXPECT_HAS(e, "jx9:1:25: runtime error: too much recursion: more than 200 nested calls (calling f())");
    EXPECT_EQ(run("function down($n) { return $n == 0 ? 0 : 1 + down($n - 1); } return down(150);"), 150);
    jx9::Options o;
    o.max_call_depth = 10;
    EXPECT_HAS(error_of("function down($n) { return $n == 0 ? 0 : 1 + down($n - 1); } return down(20);", json::object(), o),
               "more than 10 nested calls");
    o = jx9::Options();
    o.max_call_depth = 1000000;  // the native stack guard stops it first
    o.max_stack_bytes = 64 * 1024;
    EXPECT_HAS(error_of("function f($n) { return f($n + 1); } return f(0);", json::object(), o), "native stack limit");
}

TEST(Jx9Errors, NestingAndSizeLimits) {
    std::string deep = "return " + std::string(5000, '(') + "1" + std::string(5000, ')') + ";";
    EXPECT_HAS(error_of(deep), "nested too deeply");
    std::string deep_arrays = "return " + std::string(5000, '[') + std::string(5000, ']') + ";";
    EXPECT_HAS(error_of(deep_arrays), "nested too deeply");
    std::string deep_ifs;
    for (int i = 0; i < 2000; ++i) deep_ifs += "if (1) ";
    EXPECT_HAS(error_of(deep_ifs + "return 1;"), "nested too deeply");
    EXPECT_EQ(run("return " + std::string(50, '(') + "1" + std::string(50, ')') + ";"), 1);
    jx9::Options o;
    o.max_string_bytes = 1000;
    EXPECT_HAS(error_of("$s = \"x\"; while (true) { $s = $s .. $s; }", json::object(), o), "longer than the limit of 1000 bytes");
    EXPECT_HAS(error_of("return str_repeat(\"ab\", 100000);", json::object(), o), "longer than the limit");
}

TEST(Jx9Errors, DeepRecursionInASmallThreadStack) {
    // The interpreter runs in RPC handler fibers: recursion must end in an error, not a crash,
    // even when the stack is smaller than the default budget assumes.
    std::string message;
    std::thread t([&] { message = error_of("function f($n) { return f($n + 1) + 1; } return f(0);"); });
    t.join();
    EXPECT_HAS(message, "too much recursion");
}

// ------------------------------------------------------------------ bedrock integration

TEST(Jx9Bedrock, QueriesKeepWorking) {
    json vars = {{"__config__", {{"providers", {{{"name", "db"}, {"provider_id", 3}, {"type", "yokan"}}}}, {"n", 2}}}};
    using kinako::bedrock::evaluate_script;
    EXPECT_EQ(evaluate_script("return $__config__.providers[0].name;", vars), "db");
    EXPECT_EQ(evaluate_script("$__config__.n", vars), 2);  // a lone expression gives its value
    EXPECT_EQ(evaluate_script("$x = $__config__.n;", vars), nullptr);
    const char* loop = R"(
        $names = [];
        foreach ($__config__.providers as $p) {
            if ($p.type == "yokan") { $names[] = $p.name .. ":" .. $p.provider_id; }
        }
        return {"count": count($names), "names": $names};)";
    EXPECT_EQ(evaluate_script(loop, vars), json::parse(R"({"count":1,"names":["db:3"]})"));
    auto msg = [&](const std::string& s) {
        try {
            evaluate_script(s, vars);
        } catch (const mochi::bedrock::Exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_HAS(msg("return $__config__.;"), "query:1:20: syntax error");
    json cond_vars = {{"MPI_COMM_WORLD", {{"rank", 1}, {"size", 2}}}, {"__rank__", 1}};
    EXPECT_EQ(kinako::bedrock::evaluate_expression("$MPI_COMM_WORLD.rank == 1 && $__rank__ > 0", cond_vars), true);
    EXPECT_EQ(kinako::bedrock::evaluate_expression("$MPI_COMM_WORLD.size", cond_vars), 2);
    EXPECT_THROW(kinako::bedrock::evaluate_expression("$a = 1; return 2;", cond_vars), mochi::bedrock::Exception);
    EXPECT_TRUE(kinako::bedrock::truthy(json("yes")));
    EXPECT_FALSE(kinako::bedrock::truthy(json("false")));
}

TEST(Jx9Bedrock, RealisticConfigScript) {
    // Like `bedrock tcp -j -c cfg.jx9 --jx9-context num_dbs=3,backend=map,with_blobs=true`:
    // providers built in a loop, depending on the rank and on context variables.
    const char* script = R"(
        # one yokan database per requested db, ids offset by rank
        $rank = $MPI_COMM_WORLD.rank;
        $providers = [];
        function yokan_provider($name, $id, $backend) {
            return {
                name: $name, type: "yokan", provider_id: $id,
                config: { database: { type: $backend } },
                tags: ["storage", "rank-" .. $MPI_COMM_WORLD.rank]
            };
        }
        for ($i = 0; $i < $num_dbs; $i++) {
            $providers[] = yokan_provider(sprintf("db_%d_%d", $rank, $i), 10 * ($rank + 1) + $i, $backend);
        }
        if ($with_blobs && $rank == 0) {
            $providers[] = {
                "name": "blobs", "type": "warabi", "provider_id": 99,
                "config": { "target": { "type": "memory" } }
            };
        }
        $cfg = {
            margo: { argobots: { pools: [ { name: "__primary__", kind: "fifo_wait" } ] } },
            providers: $providers
        };
        $cfg.bedrock.provider_id = 0;
        return $cfg;)";
    json vars = {{"num_dbs", 3}, {"backend", "map"}, {"with_blobs", true},
                 {"MPI_COMM_WORLD", {{"rank", 1}, {"size", 4}}}};
    json cfg = jx9::run(script, vars);
    ASSERT_TRUE(cfg.is_object());
    ASSERT_EQ(cfg["providers"].size(), 3u);  // no blobs on rank 1
    EXPECT_EQ(cfg["providers"][0]["name"], "db_1_0");
    EXPECT_EQ(cfg["providers"][2]["provider_id"], 22);
    EXPECT_EQ(cfg["providers"][1]["tags"], json::parse(R"(["storage","rank-1"])"));
    EXPECT_EQ(cfg["providers"][1]["config"]["database"]["type"], "map");
    vars["MPI_COMM_WORLD"]["rank"] = 0;
    cfg = jx9::run(script, vars);
    ASSERT_EQ(cfg["providers"].size(), 4u);
    EXPECT_EQ(cfg["providers"][3]["name"], "blobs");
    EXPECT_EQ(cfg["providers"][0]["provider_id"], 10);
    // The result is an ordinary bedrock config.
    mochi::bedrock::ServerOptions opts;
    json processed = json::parse(mochi::bedrock::preprocess_config(cfg.dump(), opts));
    EXPECT_EQ(processed["providers"].size(), 4u);
}
