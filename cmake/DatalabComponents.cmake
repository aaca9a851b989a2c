# datalab_component(<name> FOLDER <dir under src/> [DEPS components...] [PUBLIC_LIBS ...] [PRIVATE_LIBS ...]
#                   [SOURCES extra...] [EXECUTABLE <program>])
# One folder, one static library `datalab_<name>` made of the folder's .cpp files (a folder
# with headers only gives an INTERFACE library). DEPS are other components: the layer check
# (cmake/CheckLayers.cmake, run by every build) refuses any include of a component's header
# that the including folder does not depend on, so dependencies point only down.
# Third-party libraries are PUBLIC only when the component's headers expose their types.
# EXECUTABLE makes the folder a program instead (the CLI's main()).
function(datalab_component name)
  cmake_parse_arguments(ARG "" "FOLDER;EXECUTABLE" "DEPS;PUBLIC_LIBS;PRIVATE_LIBS;SOURCES" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/${ARG_FOLDER}/*.cpp")
  list(APPEND sources ${ARG_SOURCES})
  set(target datalab_${name})
  set(deps)
  foreach(dep ${ARG_DEPS})
    list(APPEND deps datalab_${dep})
  endforeach()
  if(ARG_EXECUTABLE)
    add_executable(${ARG_EXECUTABLE} ${sources})
    # build/<preset>/datalab, where the README, the scripts and the tests look for it.
    set_target_properties(${ARG_EXECUTABLE} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}")
    target_include_directories(${ARG_EXECUTABLE} PRIVATE "${PROJECT_SOURCE_DIR}/src" "${PROJECT_BINARY_DIR}/generated")
    target_link_libraries(${ARG_EXECUTABLE} PRIVATE ${deps} ${ARG_PUBLIC_LIBS} ${ARG_PRIVATE_LIBS})
    add_dependencies(${ARG_EXECUTABLE} datalab_layer_check)
  elseif(sources)
    add_library(${target} STATIC ${sources})
    target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/src" "${PROJECT_BINARY_DIR}/generated")
    target_link_libraries(${target} PUBLIC ${deps} ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS})
    add_dependencies(${target} datalab_layer_check)
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE "${PROJECT_SOURCE_DIR}/src" "${PROJECT_BINARY_DIR}/generated")
    target_link_libraries(${target} INTERFACE ${deps} ${ARG_PUBLIC_LIBS})
  endif()
  set_property(GLOBAL APPEND PROPERTY DATALAB_COMPONENTS "${name}")
  set_property(GLOBAL PROPERTY DATALAB_COMPONENT_${name}_FOLDER "${ARG_FOLDER}")
  set_property(GLOBAL PROPERTY DATALAB_COMPONENT_${name}_DEPS "${ARG_DEPS}")
endfunction()

# Writes the layer manifest (one line per component: name|folder|deps) and the build step that
# checks every source and header of src/ against it before anything compiles.
function(datalab_layer_check_target)
  get_property(components GLOBAL PROPERTY DATALAB_COMPONENTS)
  set(manifest "")
  foreach(name ${components})
    get_property(folder GLOBAL PROPERTY DATALAB_COMPONENT_${name}_FOLDER)
    get_property(deps GLOBAL PROPERTY DATALAB_COMPONENT_${name}_DEPS)
    string(REPLACE ";" "," deps "${deps}")
    string(APPEND manifest "${name}|${folder}|${deps}\n")
  endforeach()
  set(manifest_file "${PROJECT_BINARY_DIR}/layers.manifest")
  file(CONFIGURE OUTPUT "${manifest_file}" CONTENT "${manifest}" @ONLY)
  file(GLOB_RECURSE checked CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/*.h" "${PROJECT_SOURCE_DIR}/src/*.cpp")
  add_custom_command(
    OUTPUT "${PROJECT_BINARY_DIR}/layers.checked"
    COMMAND "${CMAKE_COMMAND}" -DMANIFEST=${manifest_file} -DSOURCE_ROOT=${PROJECT_SOURCE_DIR}/src
            -P "${PROJECT_SOURCE_DIR}/cmake/CheckLayers.cmake"
    COMMAND "${CMAKE_COMMAND}" -E touch "${PROJECT_BINARY_DIR}/layers.checked"
    DEPENDS ${checked} "${manifest_file}" "${PROJECT_SOURCE_DIR}/cmake/CheckLayers.cmake"
    COMMENT "Checking that includes point only down the layers"
    VERBATIM)
  add_custom_target(datalab_layer_check_run DEPENDS "${PROJECT_BINARY_DIR}/layers.checked")
  add_dependencies(datalab_layer_check datalab_layer_check_run)
endfunction()
