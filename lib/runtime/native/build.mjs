console.log("leaf: native addon build pending");
