# Finds Apache Arrow C++ and Parquet.
# Prefers a system Arrow (find_package); otherwise uses the C++ headers and libraries that
# the pyarrow wheel ships (DATALAB_PYTHON points at the project venv's interpreter).
# Defines the targets datalab::arrow, datalab::parquet, datalab::arrow_s3 (Arrow's S3
# filesystem, a library of its own in recent releases: libarrow_s3 in the pyarrow 26 wheel)
# and datalab::arrow_compute (casts and the other compute kernels: libarrow_compute).

find_package(Arrow CONFIG QUIET)
find_package(Parquet CONFIG QUIET)
if(Arrow_FOUND AND Parquet_FOUND)
  message(STATUS "Arrow ${Arrow_VERSION} from the system")
  add_library(datalab::arrow ALIAS Arrow::arrow_shared)
  add_library(datalab::parquet ALIAS Parquet::parquet_shared)
  find_package(ArrowCompute CONFIG QUIET)
  add_library(datalab::arrow_compute INTERFACE IMPORTED GLOBAL)
  if(TARGET ArrowCompute::arrow_compute_shared)
    set_property(TARGET datalab::arrow_compute PROPERTY INTERFACE_LINK_LIBRARIES ArrowCompute::arrow_compute_shared)
  else()  # older Arrow: the kernels live in libarrow itself
    set_property(TARGET datalab::arrow_compute PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow_shared)
  endif()
  find_package(ArrowS3 CONFIG QUIET)
  add_library(datalab::arrow_s3 INTERFACE IMPORTED GLOBAL)
  if(TARGET ArrowS3::arrow_s3_shared)
    set_property(TARGET datalab::arrow_s3 PROPERTY INTERFACE_LINK_LIBRARIES ArrowS3::arrow_s3_shared)
  else()  # older Arrow: S3 lives in libarrow itself
    set_property(TARGET datalab::arrow_s3 PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow_shared)
  endif()
  return()
endif()

if(NOT DATALAB_PYTHON)
  set(DATALAB_PYTHON "$ENV{HOME}/.cache/datalab/venv/bin/python")
endif()
execute_process(
  COMMAND "${DATALAB_PYTHON}" -c
    "import pyarrow as pa; pa.create_library_symlinks(); print(pa.__version__); print(pa.get_include()); print(pa.get_library_dirs()[0])"
  OUTPUT_VARIABLE _pyarrow_out RESULT_VARIABLE _pyarrow_rc ERROR_VARIABLE _pyarrow_err
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _pyarrow_rc EQUAL 0)
  message(FATAL_ERROR "No system Arrow and no pyarrow at ${DATALAB_PYTHON}: run scripts/setup first.\n${_pyarrow_err}")
endif()
string(REPLACE "\n" ";" _pyarrow_out "${_pyarrow_out}")
list(GET _pyarrow_out 0 DATALAB_ARROW_VERSION)
list(GET _pyarrow_out 1 _arrow_include)
list(GET _pyarrow_out 2 DATALAB_ARROW_LIBDIR)
message(STATUS "Arrow ${DATALAB_ARROW_VERSION} from pyarrow: ${DATALAB_ARROW_LIBDIR}")

foreach(_lib arrow parquet arrow_s3 arrow_compute)
  add_library(datalab::${_lib} SHARED IMPORTED GLOBAL)
  set_target_properties(datalab::${_lib} PROPERTIES
    IMPORTED_LOCATION "${DATALAB_ARROW_LIBDIR}/lib${_lib}.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_arrow_include}")
endforeach()
set_property(TARGET datalab::parquet PROPERTY INTERFACE_LINK_LIBRARIES datalab::arrow)
set_property(TARGET datalab::arrow_s3 PROPERTY INTERFACE_LINK_LIBRARIES datalab::arrow)
set_property(TARGET datalab::arrow_compute PROPERTY INTERFACE_LINK_LIBRARIES datalab::arrow)
# The wheel's libraries live outside the system paths: bake their folder into the binaries.
list(APPEND CMAKE_BUILD_RPATH "${DATALAB_ARROW_LIBDIR}")
list(APPEND CMAKE_INSTALL_RPATH "${DATALAB_ARROW_LIBDIR}")
