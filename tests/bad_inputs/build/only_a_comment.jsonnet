// names: {file}
