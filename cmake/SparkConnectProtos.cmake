# Spark Connect's protocol, generated at build time from Spark's own .proto files.
#
# The .proto files ship inside the spark-connect jar that PyPI's pyspark carries (installed by
# `services/spark.sh install` into $DATALAB_CACHE/spark-venv); they are extracted from that jar
# into the build tree and compiled with Debian's protoc and grpc_cpp_plugin. Nothing of Spark is
# copied into the repository.
#
# Provides the static library `datalab_spark_connect_proto` (messages + the gRPC service stub).

find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)

set(_datalab_cache "$ENV{DATALAB_CACHE}")
if(NOT _datalab_cache)
  set(_datalab_cache "$ENV{HOME}/.cache/datalab")
endif()
file(GLOB _spark_connect_jars
  "${_datalab_cache}/spark-venv/lib/python*/site-packages/pyspark/jars/spark-connect_*.jar")
list(SORT _spark_connect_jars)
list(LENGTH _spark_connect_jars _jar_count)
set(_default_jar "")
if(_jar_count GREATER 0)
  list(GET _spark_connect_jars -1 _default_jar)
endif()
set(DATALAB_SPARK_CONNECT_JAR "${_default_jar}" CACHE FILEPATH
    "spark-connect jar whose spark/connect/*.proto files define the Spark Connect protocol")
if(NOT EXISTS "${DATALAB_SPARK_CONNECT_JAR}" AND EXISTS "${_default_jar}")
  set(DATALAB_SPARK_CONNECT_JAR "${_default_jar}" CACHE FILEPATH "" FORCE)  # Spark was upgraded
endif()
if(NOT EXISTS "${DATALAB_SPARK_CONNECT_JAR}")
  message(FATAL_ERROR
    "No spark-connect jar found (looked in ${_datalab_cache}/spark-venv). "
    "Run `services/spark.sh install` (scripts/setup does) or set -DDATALAB_SPARK_CONNECT_JAR=<path>.")
endif()
message(STATUS "Spark Connect protocol from ${DATALAB_SPARK_CONNECT_JAR}")

# The files base.proto needs (directly or through its imports).
set(_spark_protos base commands common expressions relations types ml ml_common pipelines catalog)
set(_proto_root "${CMAKE_BINARY_DIR}/spark-connect-proto")
set(_gen_root "${CMAKE_BINARY_DIR}/generated")
set(_proto_files "")
set(_gen_sources "")
foreach(name ${_spark_protos})
  list(APPEND _proto_files "${_proto_root}/spark/connect/${name}.proto")
  list(APPEND _gen_sources "${_gen_root}/spark/connect/${name}.pb.cc")
endforeach()
list(APPEND _gen_sources "${_gen_root}/spark/connect/base.grpc.pb.cc")

add_custom_command(
  OUTPUT ${_proto_files}
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_proto_root}"
  COMMAND ${CMAKE_COMMAND} -E chdir "${_proto_root}" ${CMAKE_COMMAND} -E tar xf "${DATALAB_SPARK_CONNECT_JAR}" spark/connect
  # The jar's entries keep their old dates: touch so the outputs are newer than the jar.
  COMMAND ${CMAKE_COMMAND} -E touch ${_proto_files}
  DEPENDS "${DATALAB_SPARK_CONNECT_JAR}"
  COMMENT "Extracting Spark Connect .proto files from ${DATALAB_SPARK_CONNECT_JAR}"
  VERBATIM)

get_target_property(_grpc_cpp_plugin gRPC::grpc_cpp_plugin LOCATION)
add_custom_command(
  OUTPUT ${_gen_sources}
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_gen_root}"
  COMMAND protobuf::protoc -I "${_proto_root}" --cpp_out "${_gen_root}" ${_proto_files}
  COMMAND protobuf::protoc -I "${_proto_root}" --grpc_out "${_gen_root}"
          "--plugin=protoc-gen-grpc=${_grpc_cpp_plugin}" "${_proto_root}/spark/connect/base.proto"
  DEPENDS ${_proto_files} protobuf::protoc
  COMMENT "Generating the Spark Connect C++ protocol (protoc + grpc_cpp_plugin)"
  VERBATIM)

add_library(datalab_spark_connect_proto STATIC ${_gen_sources})
target_include_directories(datalab_spark_connect_proto SYSTEM PUBLIC "${_gen_root}")
target_link_libraries(datalab_spark_connect_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_compile_options(datalab_spark_connect_proto PRIVATE -w)  # generated code
