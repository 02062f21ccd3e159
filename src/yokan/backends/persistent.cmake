# Persistent and document-only Yokan backends, included from src/yokan/CMakeLists.txt after
# add_library(kinako-yokan ...). A backend whose library is missing is skipped (with a
# message); log and array need nothing and are always built.
set(_kinako_yk_dir ${CMAKE_CURRENT_LIST_DIR})

target_sources(kinako-yokan PRIVATE ${_kinako_yk_dir}/log.cpp ${_kinako_yk_dir}/array.cpp)

# rocksdb
find_path(KINAKO_ROCKSDB_INCLUDE_DIR rocksdb/db.h)
find_library(KINAKO_ROCKSDB_LIBRARY rocksdb)
if(KINAKO_ROCKSDB_INCLUDE_DIR AND KINAKO_ROCKSDB_LIBRARY)
  target_sources(kinako-yokan PRIVATE ${_kinako_yk_dir}/rocksdb.cpp)
  target_include_directories(kinako-yokan PRIVATE ${KINAKO_ROCKSDB_INCLUDE_DIR})
  target_link_libraries(kinako-yokan PRIVATE ${KINAKO_ROCKSDB_LIBRARY})
  message(STATUS "yokan: rocksdb backend enabled (${KINAKO_ROCKSDB_LIBRARY})")
else()
  message(STATUS "yokan: rocksdb not found, the rocksdb backend is skipped")
endif()

# lmdb
find_path(KINAKO_LMDB_INCLUDE_DIR lmdb.h)
find_library(KINAKO_LMDB_LIBRARY lmdb)
if(KINAKO_LMDB_INCLUDE_DIR AND KINAKO_LMDB_LIBRARY)
  target_sources(kinako-yokan PRIVATE ${_kinako_yk_dir}/lmdb.cpp)
  target_include_directories(kinako-yokan PRIVATE ${KINAKO_LMDB_INCLUDE_DIR})
  target_link_libraries(kinako-yokan PRIVATE ${KINAKO_LMDB_LIBRARY})
  message(STATUS "yokan: lmdb backend enabled (${KINAKO_LMDB_LIBRARY})")
else()
  message(STATUS "yokan: lmdb not found, the lmdb backend is skipped")
endif()

# leveldb
find_path(KINAKO_LEVELDB_INCLUDE_DIR leveldb/db.h)
find_library(KINAKO_LEVELDB_LIBRARY leveldb)
if(KINAKO_LEVELDB_INCLUDE_DIR AND KINAKO_LEVELDB_LIBRARY)
  target_sources(kinako-yokan PRIVATE ${_kinako_yk_dir}/leveldb.cpp)
  target_include_directories(kinako-yokan PRIVATE ${KINAKO_LEVELDB_INCLUDE_DIR})
  target_link_libraries(kinako-yokan PRIVATE ${KINAKO_LEVELDB_LIBRARY})
  message(STATUS "yokan: leveldb backend enabled (${KINAKO_LEVELDB_LIBRARY})")
else()
  message(STATUS "yokan: leveldb not found, the leveldb backend is skipped")
endif()

unset(_kinako_yk_dir)
