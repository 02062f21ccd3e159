// LUA_FILTER: the filter string is a Lua 5.4 chunk, compiled once per request and run once per
// candidate item. Before each run the provider sets the globals
//   databases:   __key__ (string), __value__ (string with FILTER_VALUE, else nil)
//   collections: __id__ (integer), __doc__ (string)
// and keeps the item when the chunk returns a true value (Lua truthiness: anything but nil and
// false; no value at all counts as nil).
//
// Each request gets its own lua_State, never shared, and a sandbox: only the base, string,
// table and math libraries, without dofile/loadfile/print/warn/string.dump and with `load`
// limited to source text; a count hook that aborts an evaluation after
// LuaLimits::kInstructions VM instructions; an allocator that refuses to grow the state past
// LuaLimits::kMemory (plus the current key and value). Every Lua call runs in protected mode,
// so a faulty filter becomes Exception(InvalidFilter) with Lua's message, never a crash.
#include "filter.hpp"

#ifdef KINAKO_HAVE_LUA
#include <lua.hpp>
#endif

#include <cstdlib>
#include <string>

namespace mochi::yokan::detail {

#ifdef KINAKO_HAVE_LUA

bool lua_filters_available() { return true; }

namespace {

constexpr int kHookEvery = 1000;  // instructions between two calls of the count hook

class LuaSandbox {
  public:
    explicit LuaSandbox(std::string_view code) : code_(code) {
        L_ = lua_newstate(&LuaSandbox::allocate, this);
        if (!L_) throw Exception(Status::Allocation, "Allocation error: cannot create a Lua state for the filter");
        lua_pushcfunction(L_, &LuaSandbox::setup);  // a light C function: allocates nothing
        int status = lua_pcall(L_, 0, 0, 0);
        if (status != LUA_OK) {
            std::string msg = error_text();
            lua_close(L_);
            L_ = nullptr;
            if (status == LUA_ERRMEM)
                throw Exception(Status::InvalidFilter, "Invalid filter: Lua filter exceeds its memory limit while compiling");
            throw Exception(Status::InvalidFilter, "Invalid filter: Lua syntax error: " + msg);
        }
        lua_sethook(L_, &LuaSandbox::hook, LUA_MASKCOUNT, kHookEvery);
    }
    ~LuaSandbox() {
        if (L_) lua_close(L_);
    }
    LuaSandbox(const LuaSandbox&) = delete;
    LuaSandbox& operator=(const LuaSandbox&) = delete;

    bool keep_key(std::string_view key, const std::string_view* value) {
        item_ = Item{false, key, value ? *value : std::string_view(), value != nullptr, 0};
        return run(key.size() + (value ? value->size() : 0));
    }
    bool keep_doc(uint64_t id, std::string_view doc) {
        item_ = Item{true, doc, {}, false, id};
        return run(doc.size());
    }

  private:
    struct Item {
        bool is_doc;
        std::string_view first;  // the key, or the document
        std::string_view value;
        bool has_value;
        uint64_t id;
    };

    static LuaSandbox& of(lua_State* L) {
        void* ud = nullptr;
        lua_getallocf(L, &ud);
        return *static_cast<LuaSandbox*>(ud);
    }

    // The allocator: realloc/free with a running total capped at limit_.
    static void* allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
        auto& sb = *static_cast<LuaSandbox*>(ud);
        size_t old = ptr ? osize : 0;  // without ptr, osize tells the kind of object
        if (nsize == 0) {
            std::free(ptr);
            sb.used_ -= old;
            return nullptr;
        }
        if (nsize > old && sb.used_ + (nsize - old) > sb.limit_) return nullptr;  // Lua collects and retries once
        void* p = std::realloc(ptr, nsize);
        if (!p) return nullptr;
        sb.used_ = sb.used_ - old + nsize;
        return p;
    }

    // Aborts an evaluation that runs too long. Once over the limit it fires at every
    // instruction, so a pcall inside the filter cannot swallow the abort and go on.
    static void hook(lua_State* L, lua_Debug*) {
        auto& sb = of(L);
        sb.executed_ += kHookEvery;
        if (sb.executed_ > LuaLimits::kInstructions) {
            sb.runaway_ = true;
            lua_sethook(L, &LuaSandbox::hook, LUA_MASKCOUNT, 1);
            luaL_error(L, "instruction limit reached");
        }
    }

    // load() restricted to source text: the mode argument is forced to "t".
    static int text_load(lua_State* L) {
        int n = lua_gettop(L);
        if (n < 2) lua_settop(L, 2);
        lua_pushliteral(L, "t");
        if (n >= 3) lua_replace(L, 3);
        n = lua_gettop(L);
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, n, LUA_MULTRET);
        return lua_gettop(L);
    }

    // Runs protected: opens the allowed libraries, trims them, compiles the chunk.
    static int setup(lua_State* L) {
        auto& sb = of(L);
        luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
        luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
        luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
        luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
        lua_settop(L, 0);
        for (const char* name : {"dofile", "loadfile", "print", "warn"}) {
            lua_pushnil(L);
            lua_setglobal(L, name);
        }
        lua_getglobal(L, "load");
        lua_pushcclosure(L, &LuaSandbox::text_load, 1);
        lua_setglobal(L, "load");
        lua_getglobal(L, LUA_STRLIBNAME);
        lua_pushnil(L);
        lua_setfield(L, -2, "dump");
        lua_pop(L, 1);
        if (luaL_loadbufferx(L, sb.code_.data(), sb.code_.size(), "=filter", "t") != LUA_OK) return lua_error(L);
        sb.chunk_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
        return 0;
    }

    // Runs protected: sets the globals for item_, runs the chunk, leaves its truth value.
    static int evaluate(lua_State* L) {
        auto& sb = of(L);
        const Item& it = sb.item_;
        if (it.is_doc) {
            lua_pushinteger(L, static_cast<lua_Integer>(it.id));
            lua_setglobal(L, "__id__");
            lua_pushlstring(L, it.first.data(), it.first.size());
            lua_setglobal(L, "__doc__");
        } else {
            lua_pushlstring(L, it.first.data(), it.first.size());
            lua_setglobal(L, "__key__");
            if (it.has_value) lua_pushlstring(L, it.value.data(), it.value.size());
            else lua_pushnil(L);
            lua_setglobal(L, "__value__");
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb.chunk_ref_);
        lua_call(L, 0, 1);
        lua_pushboolean(L, lua_toboolean(L, -1));
        return 1;
    }

    bool run(size_t item_bytes) {
        executed_ = 0;
        limit_ = LuaLimits::kMemory + item_bytes;
        lua_settop(L_, 0);
        lua_pushcfunction(L_, &LuaSandbox::evaluate);
        int status = lua_pcall(L_, 0, 1, 0);
        if (status != LUA_OK) {
            std::string msg = error_text();
            lua_settop(L_, 0);
            if (runaway_)
                throw Exception(Status::InvalidFilter, "Invalid filter: Lua filter stopped after " +
                                                           std::to_string(LuaLimits::kInstructions) +
                                                           " instructions (endless loop?)");
            if (status == LUA_ERRMEM)
                throw Exception(Status::InvalidFilter, "Invalid filter: Lua filter exceeds its memory limit of " +
                                                           std::to_string(LuaLimits::kMemory >> 20) + " MiB");
            throw Exception(Status::InvalidFilter, "Invalid filter: Lua runtime error: " + msg);
        }
        bool keep = lua_toboolean(L_, -1);
        lua_settop(L_, 0);
        return keep;
    }

    // The error object on top of the stack, as text, without allocating in Lua.
    std::string error_text() {
        if (lua_type(L_, -1) == LUA_TSTRING) {
            size_t n = 0;
            const char* s = lua_tolstring(L_, -1, &n);
            return std::string(s, n);
        }
        return std::string("(error object is a ") + luaL_typename(L_, -1) + " value)";
    }

    std::string_view code_;  // only read by setup, during the constructor
    lua_State* L_ = nullptr;
    size_t used_ = 0;
    size_t limit_ = LuaLimits::kMemory;
    uint64_t executed_ = 0;
    bool runaway_ = false;
    int chunk_ref_ = LUA_NOREF;
    Item item_{};
};

class LuaKvFilter final : public KeyValueFilter {
  public:
    LuaKvFilter(int32_t mode, std::string_view code)
    : KeyValueFilter(mode, {}), lua_(code), with_value_(mode & YOKAN_MODE_FILTER_VALUE) {}
    bool requires_value() const override { return with_value_; }
    bool check(std::string_view key, std::string_view value) override {
        return lua_.keep_key(key, with_value_ ? &value : nullptr);
    }

  private:
    LuaSandbox lua_;
    bool with_value_;
};

class LuaDocFilter final : public DocFilter {
  public:
    LuaDocFilter(int32_t mode, std::string_view code) : DocFilter(mode, {}), lua_(code) {}
    bool check(std::string_view, uint64_t id, std::string_view doc) override { return lua_.keep_doc(id, doc); }

  private:
    LuaSandbox lua_;
};

}  // namespace

std::unique_ptr<KeyValueFilter> make_lua_kv_filter(int32_t mode, std::string_view code) {
    return std::make_unique<LuaKvFilter>(mode, code);
}

std::unique_ptr<DocFilter> make_lua_doc_filter(int32_t mode, std::string_view code) {
    return std::make_unique<LuaDocFilter>(mode, code);
}

#else  // built without Lua

bool lua_filters_available() { return false; }

namespace {
[[noreturn]] void no_lua() {
    throw Exception(Status::InvalidMode, "Invalid mode: this kinako was built without Lua, so LUA_FILTER is unsupported");
}
}  // namespace

std::unique_ptr<KeyValueFilter> make_lua_kv_filter(int32_t, std::string_view) { no_lua(); }
std::unique_ptr<DocFilter> make_lua_doc_filter(int32_t, std::string_view) { no_lua(); }

#endif

}  // namespace mochi::yokan::detail
