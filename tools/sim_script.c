typedef int sim_script_placeholder_t;
